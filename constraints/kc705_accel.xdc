# squeezeflow accelerator (the bundle's top module alone, no board shell) on the Xilinx KC705
# (XC7K325T-2FFG900C). With the board shell (UART link) use kc705.xdc instead.
# The KC705's system clock is differential, so this file constrains the ports of the wrapper
# `kc705_accel_top` (kc705_accel_top.v, written into the bundle beside this file), which buffers
# the clock (IBUFDS + BUFG) into the bundle's top module. The AXI4-Stream ports (the weight stream
# `s_axis_weights_*` included) and the status are passed through for a shell or a block design to drive; they are not board
# pins.
#
# Pin sources: Xilinx UG810 (KC705 Evaluation Board User Guide), "Clock sources" and "User
# push buttons": SYSCLK_P/N from the 200 MHz SiT9102 oscillator on AD12/AD11 (bank 33, LVDS),
# the CPU_RESET push button on AB7 (bank 33, 1.5 V), active high.

set_property -dict { PACKAGE_PIN AD12 IOSTANDARD LVDS } [get_ports { sysclk_p }]
set_property -dict { PACKAGE_PIN AD11 IOSTANDARD LVDS } [get_ports { sysclk_n }]
create_clock -name sysclk -period 5.000 [get_ports { sysclk_p }]

set_property -dict { PACKAGE_PIN AB7 IOSTANDARD LVCMOS15 } [get_ports { cpu_reset }]
set_false_path -from [get_ports { cpu_reset }]

# 200 MHz is squeezeflow's nominal clock for this part: the oscillator clocks the engine as is.

set_property CFGBVS VCCO [current_design]
set_property CONFIG_VOLTAGE 2.5 [current_design]
