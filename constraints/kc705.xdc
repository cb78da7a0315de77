# squeezeflow board shell on the Xilinx KC705 (xc7k325tffg900-2).
# Source: Xilinx UG810 (KC705 Evaluation Board User Guide), the USB-to-UART bridge (CP2103, U12)
# and system clock tables, as also used by public KC705 designs (e.g. the KC705 example
# constraints of Alex Forencich's verilog-ethernet: uart_txd K24, uart_rxd M19).
# Ports of the shell: clock, reset (active high), uart_rx, uart_tx.

# 200 MHz SYSCLK is differential LVDS (SYSCLK_P AD12, SYSCLK_N AD11): the shell's `clock` comes
# from a wrapper:  IBUFDS ibuf (.I(sys_clk_p), .IB(sys_clk_n), .O(clk)); top shell (.clock(clk), ...)
# Generate the bundle with --clock-mhz 200.
set_property -dict { PACKAGE_PIN AD12 IOSTANDARD LVDS } [get_ports { sys_clk_p }]
set_property -dict { PACKAGE_PIN AD11 IOSTANDARD LVDS } [get_ports { sys_clk_n }]
create_clock -period 5.000 -name sys_clk [get_ports { sys_clk_p }]

# CPU_RESET push button (SW7), active high.
set_property -dict { PACKAGE_PIN AB7 IOSTANDARD LVCMOS15 } [get_ports { reset }]

# USB UART (CP2103, J6 mini-USB).
# FPGA input, host -> board (USB_UART_RX, CP2103 TXD)
set_property -dict { PACKAGE_PIN M19 IOSTANDARD LVCMOS25 } [get_ports { uart_rx }]
# FPGA output, board -> host (USB_UART_TX, CP2103 RXD)
set_property -dict { PACKAGE_PIN K24 IOSTANDARD LVCMOS25 SLEW SLOW DRIVE 12 } [get_ports { uart_tx }]

set_false_path -from [get_ports { uart_rx }]
set_false_path -to [get_ports { uart_tx }]
