//! Byte pipes to a board: the [`Transport`] trait, a real serial port ([`SerialTransport`]), and
//! the simulated shell driven bit by bit on its UART pins ([`SimTransport`] over [`Pins`]: the
//! Verilated shell's [`VerilatedPins`] or rust-hdl's shell).

use std::collections::VecDeque;
use std::time::Duration;

use super::BoardError;

/// A byte pipe to a board.
pub trait Transport {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BoardError>;
    /// The next byte received within `timeout`, or `None`.
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, BoardError>;
    /// The time one byte (10 bits) takes on the wire.
    fn byte_time(&self) -> Duration;
    /// Extra delay the host side adds (USB, the OS): zero for the simulator.
    fn latency(&self) -> Duration {
        Duration::ZERO
    }
}

/// A real serial port (8N1, no flow control).
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
    baud: u32,
}

impl SerialTransport {
    pub fn open(path: &str, baud: u32) -> Result<Self, BoardError> {
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| BoardError::Io(format!("{path}: {e}")))?;
        Ok(SerialTransport { port, baud })
    }
}

impl SerialTransport {
    /// An already open port (a pseudo-terminal in the tests), set to 8N1 at `baud` by its owner.
    pub fn from_port(port: Box<dyn serialport::SerialPort>, baud: u32) -> Self {
        SerialTransport { port, baud }
    }
}

impl Transport for SerialTransport {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BoardError> {
        use std::io::Write;
        self.port
            .write_all(bytes)
            .and_then(|_| self.port.flush())
            .map_err(|e| BoardError::Io(e.to_string()))
    }
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, BoardError> {
        use std::io::Read;
        self.port
            .set_timeout(timeout.max(Duration::from_millis(1)))
            .map_err(|e| BoardError::Io(e.to_string()))?;
        let mut b = [0u8; 1];
        match self.port.read(&mut b) {
            Ok(1) => Ok(Some(b[0])),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(None),
            Err(e) => Err(BoardError::Io(e.to_string())),
        }
    }
    fn byte_time(&self) -> Duration {
        Duration::from_secs_f64(10.0 / self.baud as f64)
    }
    fn latency(&self) -> Duration {
        Duration::from_millis(50)
    }
}

/// A shell's pins, one clock cycle at a time: drive `uart_rx`, return `uart_tx` as sampled in
/// that cycle, then clock. Implemented by the Verilated shell and by rust-hdl's [`Shell`].
///
/// [`Shell`]: squeezeflow_hw::shell::Shell
pub trait Pins {
    fn cycle(&mut self, rx: bool) -> bool;
}

impl Pins for squeezeflow_hw::shell::Shell {
    fn cycle(&mut self, rx: bool) -> bool {
        squeezeflow_hw::shell::Shell::cycle(self, rx)
    }
}

/// The Verilated shell's pins.
pub struct VerilatedPins<'a> {
    inst: squeezeflow_sim::verilator::Instance<'a>,
    clock: usize,
    rx: usize,
    tx: usize,
}

impl<'a> VerilatedPins<'a> {
    /// A new instance of a verilated shell, held in reset for a few cycles.
    pub fn new(model: &'a squeezeflow_sim::verilator::Model) -> Result<Self, BoardError> {
        let port = |n: &str| model.port(n).map_err(|e| BoardError::Io(e.to_string()));
        let mut p = VerilatedPins {
            inst: model.instance(),
            clock: port("clock")?,
            rx: port("uart_rx")?,
            tx: port("uart_tx")?,
        };
        let reset = port("reset")?;
        p.inst.set(reset, 1);
        p.inst.set(p.rx, 1);
        for _ in 0..4 {
            p.inst.tick(p.clock);
        }
        p.inst.set(reset, 0);
        p.inst.eval();
        Ok(p)
    }
}

impl Pins for VerilatedPins<'_> {
    fn cycle(&mut self, rx: bool) -> bool {
        self.inst.set(self.rx, rx as u64);
        self.inst.eval();
        let tx = self.inst.get(self.tx) != 0;
        self.inst.tick(self.clock);
        tx
    }
}

/// The simulated link: bytes written are sent bit by bit on `uart_rx` (8N1, `divisor` cycles
/// a bit), `uart_tx` is sampled in the middle of each bit, and time is simulated time at
/// `clock_hz` (a timeout of one second is `clock_hz` cycles).
pub struct SimTransport<P: Pins> {
    pub pins: P,
    divisor: u32,
    clock_hz: f64,
    /// Bits still to send (false = 0), each `divisor` cycles.
    out_bits: VecDeque<bool>,
    bit_left: u32,
    cur: bool,
    // receiver of uart_tx
    rx_count: Option<u32>,
    rx_sh: u16,
    received: VecDeque<u8>,
    /// Cycles simulated so far.
    pub cycles: u64,
    /// Framing errors seen on `uart_tx` (never expected).
    pub framing_errors: usize,
}

impl<P: Pins> SimTransport<P> {
    pub fn new(pins: P, divisor: u32, clock_hz: f64) -> Self {
        SimTransport {
            pins,
            divisor: divisor.max(4),
            clock_hz,
            out_bits: VecDeque::new(),
            bit_left: 0,
            cur: true,
            rx_count: None,
            rx_sh: 0,
            received: VecDeque::new(),
            cycles: 0,
            framing_errors: 0,
        }
    }

    /// One clock cycle.
    pub fn step(&mut self) {
        if self.bit_left == 0 {
            match self.out_bits.pop_front() {
                Some(b) => {
                    self.cur = b;
                    self.bit_left = self.divisor;
                }
                None => self.cur = true,
            }
        }
        if self.bit_left > 0 {
            self.bit_left -= 1;
        }
        let tx = self.pins.cycle(self.cur);
        self.cycles += 1;
        let d = self.divisor;
        match self.rx_count {
            None => {
                if !tx {
                    self.rx_count = Some(0);
                    self.rx_sh = 0;
                }
            }
            Some(n) => {
                let n = n + 1;
                self.rx_count = Some(n);
                // Sample bit k (1..=9: 8 data bits, stop) at k*d + d/2 cycles after the start.
                if n >= d / 2 && (n - d / 2).is_multiple_of(d) {
                    let k = (n - d / 2) / d;
                    if (1..=8).contains(&k) {
                        self.rx_sh |= (tx as u16) << (k - 1);
                    } else if k == 9 {
                        if tx {
                            self.received.push_back(self.rx_sh as u8);
                        } else {
                            self.framing_errors += 1;
                        }
                        self.rx_count = None;
                    }
                }
            }
        }
    }

    /// Steps until every queued bit is sent and nothing has been received for `quiet` cycles
    /// (at most `max` cycles); returns the bytes received. For a bridge that serves the
    /// simulated shell to a real port: simulated time runs only while there is traffic.
    pub fn pump(&mut self, quiet: u64, max: u64) -> Vec<u8> {
        let start = self.cycles;
        let mut idle = 0;
        while idle < quiet && self.cycles - start < max {
            let active = !self.out_bits.is_empty() || self.bit_left > 0 || self.rx_count.is_some();
            self.step();
            idle = if active { 0 } else { idle + 1 };
        }
        self.received.drain(..).collect()
    }

    fn cycles_for(&self, t: Duration) -> u64 {
        (t.as_secs_f64() * self.clock_hz).ceil() as u64
    }
}

impl<P: Pins> Transport for SimTransport<P> {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BoardError> {
        for &b in bytes {
            self.out_bits.push_back(false);
            for k in 0..8 {
                self.out_bits.push_back(b >> k & 1 != 0);
            }
            self.out_bits.push_back(true);
        }
        Ok(())
    }
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, BoardError> {
        let limit = self.cycles + self.cycles_for(timeout);
        loop {
            if let Some(b) = self.received.pop_front() {
                return Ok(Some(b));
            }
            if self.cycles >= limit {
                return Ok(None);
            }
            self.step();
        }
    }
    fn byte_time(&self) -> Duration {
        Duration::from_secs_f64(10.0 * self.divisor as f64 / self.clock_hz)
    }
}
