# squeezeflow accelerator (the bundle's top module alone, no board shell) on the Xilinx ZCU104
# (XCZU7EV-2FFVC1156E), programmable logic only. With the board shell use zcu104.xdc instead.
# The PL clock is differential, so this file constrains the ports of the wrapper
# `zcu104_accel_top` (zcu104_accel_top.v, written into the bundle beside this file), which buffers
# the clock (IBUFDS + BUFG) into the bundle's top module. The AXI4-Stream ports (the weight stream
# `s_axis_weights_*` included) and the status are passed through for a shell or the Zynq's AXI DMA (in a block design) to
# drive; they are not board pins.
#
# Pin sources: Xilinx UG1267 (ZCU104 Evaluation Board User Guide), "Clocking" and "User I/O":
# CLK_125_P/N from the 125 MHz oscillator on F23/E23 (LVDS), a PL push button on B3 (3.3 V),
# active high. As with zcu104.xdc: check these pins against UG1267 before the first bitstream.

set_property -dict { PACKAGE_PIN F23 IOSTANDARD LVDS } [get_ports { sysclk_p }]
set_property -dict { PACKAGE_PIN E23 IOSTANDARD LVDS } [get_ports { sysclk_n }]
create_clock -name clk_125 -period 8.000 [get_ports { sysclk_p }]

set_property -dict { PACKAGE_PIN B3 IOSTANDARD LVCMOS33 } [get_ports { pb_reset }]
set_false_path -from [get_ports { pb_reset }]

# squeezeflow's nominal clock for this part is 300 MHz: put an MMCM (Clocking Wizard,
# 125 -> 300 MHz) between the IBUFDS and the top module in the wrapper to run there; Vivado derives the
# generated clock's period itself.
