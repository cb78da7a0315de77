# squeezeflow accelerator (the bundle's top module alone, no board shell) on the Digilent Nexys
# Video (XC7A200T-1SBG484C). With the board shell (UART link) use nexys_video.xdc instead.
# Constrains the ports of the wrapper `nexys_video_accel_top` (nexys_video_accel_top.v, written
# into the bundle beside this file): `sysclk` and `btn_reset`. The AXI4-Stream ports (s_axis_*,
# m_axis_*, s_axis_weights_*) and the status are not board pins: a board shell (the UART link)
# or a block design drives them; constrain them there.
#
# Pin sources: Digilent "Nexys-Video-Master.xdc" (digilent/digilent-xdc on GitHub) and the
# Nexys Video reference manual: the 100 MHz oscillator on R4 (bank 34, 3.3 V), the centre push
# button BTNC on B22 (bank 16, 1.2 V), active high.

set_property -dict { PACKAGE_PIN R4  IOSTANDARD LVCMOS33 } [get_ports { sysclk }]
create_clock -add -name sys_clk_pin -period 10.000 -waveform {0 5} [get_ports { sysclk }]

# Reset from BTNC, active high (the wrapper syncs it and drives aresetn; hold it a few cycles).
set_property -dict { PACKAGE_PIN B22 IOSTANDARD LVCMOS12 } [get_ports { btn_reset }]
set_false_path -from [get_ports { btn_reset }]

# The 100 MHz oscillator clocks the engine directly. squeezeflow's nominal clock for this
# part is 150 MHz: to run there, put an MMCM (Clocking Wizard, 100 -> 150 MHz) between the pin
# and `clock` in the wrapper; Vivado derives the generated clock's period itself.

set_property CFGBVS VCCO [current_design]
set_property CONFIG_VOLTAGE 3.3 [current_design]
