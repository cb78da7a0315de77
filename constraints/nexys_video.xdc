# squeezeflow board shell on the Digilent Nexys Video (xc7a200tsbg484-1).
# Source of every pin: Digilent's Nexys-Video-Master.xdc (digilent-xdc repository), names
# "sysclk", "cpu_resetn", "uart_tx_in" and "uart_rx_out" there (named from the FT232R's side:
# the FPGA receives on uart_tx_in and sends on uart_rx_out).
# Ports of the shell: clock, reset (active high), uart_rx, uart_tx.

# 100 MHz oscillator (Sch=sysclk, IO_L13P_T2_MRCC_34).
set_property -dict { PACKAGE_PIN R4  IOSTANDARD LVCMOS33 } [get_ports { clock }]
create_clock -add -name sys_clk_pin -period 10.00 -waveform {0 5} [get_ports { clock }]

# CPU_RESET button (Sch=cpu_resetn, IO_L12N_T1_MRCC_35) is ACTIVE LOW: drive the shell's
# `reset` with its inverse in a wrapper (assign reset = ~cpu_resetn;), or constrain the
# wrapper's port instead of this one.
set_property -dict { PACKAGE_PIN G4  IOSTANDARD LVCMOS15 } [get_ports { reset }]

# USB-UART (FT232R, J13 "PROG/UART" micro-USB).
# FPGA input, host -> board (Sch=uart_tx_in, IO_L14P_T2_SRCC_14)
set_property -dict { PACKAGE_PIN V18 IOSTANDARD LVCMOS33 } [get_ports { uart_rx }]
# FPGA output, board -> host (Sch=uart_rx_out, IO_L15P_T2_DQS_RDWR_B_14)
set_property -dict { PACKAGE_PIN AA19 IOSTANDARD LVCMOS33 } [get_ports { uart_tx }]

# The UART is asynchronous to the clock (the shell synchronises uart_rx with two flip-flops).
set_false_path -from [get_ports { uart_rx }]
set_false_path -to [get_ports { uart_tx }]
