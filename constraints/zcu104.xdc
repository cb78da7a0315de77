# squeezeflow board shell on the Xilinx ZCU104 (xczu7ev-ffvc1156-2-e), PL side.
# Source: Xilinx UG1267 (ZCU104 Evaluation Board User Guide), FT4232HL quad USB-UART (U34): its
# channel wired to the PL is UART2 (UART2_TXD_O_FPGA_RXD / UART2_RXD_I_FPGA_TXD), bank 28,
# 1.8 V; the PL reference clock is CLK_125 (LVDS). The UART pin numbers are from that guide's
# UART2 table as recalled, NOT cross-checked here: verify against UG1267 / the board's master
# XDC before building a bitstream. The clock pins match public ZCU104 designs (F23/E23).
# Ports of the shell: clock, reset (active high), uart_rx, uart_tx.

# 125 MHz PL clock, differential: wrap the shell with an IBUFDS (see kc705.xdc) and generate
# the bundle with --clock-mhz 125.
set_property -dict { PACKAGE_PIN F23 IOSTANDARD LVDS } [get_ports { sys_clk_p }]
set_property -dict { PACKAGE_PIN E23 IOSTANDARD LVDS } [get_ports { sys_clk_n }]
create_clock -period 8.000 -name clk_125 [get_ports { sys_clk_p }]

# FPGA input, host -> board (UART2_TXD_O_FPGA_RXD)
set_property -dict { PACKAGE_PIN A20 IOSTANDARD LVCMOS18 } [get_ports { uart_rx }]
# FPGA output, board -> host (UART2_RXD_I_FPGA_TXD)
set_property -dict { PACKAGE_PIN C19 IOSTANDARD LVCMOS18 SLEW SLOW DRIVE 8 } [get_ports { uart_tx }]

# reset: the ZCU104 has no dedicated PL reset button; tie `reset` to a power-on reset in the
# wrapper (a small counter), or to a PL push button (GPIO_PB_SW*) of your choice.

set_false_path -from [get_ports { uart_rx }]
set_false_path -to [get_ports { uart_tx }]
