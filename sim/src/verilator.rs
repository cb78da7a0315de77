//! Our own Verilator bridge: verilate a design, compile it with a small generated `extern "C"`
//! shim into a shared library, load it, and clock it from Rust.
//!
//! Built models are cached under a directory named by the hash of everything that goes into
//! them (the Verilog, the `.mem` files, the options and the bridge's own version), so a design is
//! compiled once. `.mem` files are read when the model is created: their names are made absolute
//! in the copy of the Verilog that is verilated, so the source bundle stays movable.

use std::ffi::{c_char, c_void, CString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::SimError;

/// Bumped whenever the shim or the build recipe changes (part of the cache key).
const BRIDGE_VERSION: u32 = 2;

/// Direction of a top-level port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    Input,
    Output,
}

/// One top-level port of the verilated design.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Port {
    /// The Verilog name (`s_axis$tdata$0`).
    pub name: String,
    pub dir: Dir,
    pub width: u32,
}

impl Port {
    /// The C++ member Verilator generates for this port (`$` becomes `__024`).
    fn cpp_name(&self) -> String {
        self.name.replace('$', "__024")
    }
}

/// The first module a Verilog text declares (a design file's top module).
pub fn first_module(verilog: &str) -> Option<&str> {
    verilog.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix("module ")?;
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    })
}

/// Reads the port declarations of module `top`, one a line, as rust-hdl writes them
/// (`input wire [7:0] name;`, `output reg name;`) or in an ANSI port list
/// (`input wire [7:0] name,`).
pub fn parse_ports(verilog: &str, top: &str) -> Result<Vec<Port>, SimError> {
    let start = verilog
        .find(&format!("module {top}("))
        .or_else(|| verilog.find(&format!("module {top} (")))
        .ok_or_else(|| SimError::Design(format!("no `module {top}(` in the Verilog")))?;
    let body = &verilog[start..];
    let end = body.find("endmodule").unwrap_or(body.len());
    let mut ports = Vec::new();
    for line in body[..end].lines() {
        let t = line.trim();
        let dir = if t.starts_with("input ") {
            Dir::Input
        } else if t.starts_with("output ") {
            Dir::Output
        } else {
            continue;
        };
        let t = t.trim_end_matches([';', ',']);
        let name = t.split_whitespace().last().unwrap_or_default().to_string();
        let width = match (t.find('['), t.find(':')) {
            (Some(a), Some(b)) if b > a => {
                let hi: u32 = t[a + 1..b].trim().parse().map_err(|_| {
                    SimError::Design(format!("cannot read the width of port `{name}`"))
                })?;
                hi + 1
            }
            _ => 1,
        };
        if width > 64 {
            return Err(SimError::Design(format!(
                "port `{name}` is {width} bits wide; the bridge handles up to 64"
            )));
        }
        ports.push(Port { name, dir, width });
    }
    if ports.is_empty() {
        return Err(SimError::Design(format!("module {top} has no ports")));
    }
    Ok(ports)
}

/// FNV-1a 64, fed part by part, each part preceded by its length.
struct Fnv64(u64);

impl Fnv64 {
    fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn part(&mut self, b: &[u8]) {
        self.bytes(&(b.len() as u64).to_le_bytes());
        self.bytes(b);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// `verilator --version` (part of the cache key: a new Verilator builds new models).
fn verilator_version() -> Result<String, SimError> {
    let out = Command::new("verilator")
        .arg("--version")
        .output()
        .map_err(|e| SimError::Tool(format!("running verilator --version: {e}")))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Parallel jobs of the model's C++ build: the cores available.
fn build_jobs() -> String {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .to_string()
}

/// Options for [`Model::build`].
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Compile in VCD tracing support.
    pub trace: bool,
    /// Where models are cached (default: `$SQUEEZEFLOW_CACHE`, else `~/.cache/squeezeflow`).
    pub cache_dir: Option<PathBuf>,
    /// Report build steps on stderr.
    pub verbose: bool,
    /// Verilator's `--threads`: evaluate one model on this many threads (0 or 1: one).
    /// Measured slower than one thread on 2 cores (docs/regress.md); frames and cases are
    /// better spread over worker processes.
    pub threads: usize,
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn cache_root(opt: &BuildOptions) -> PathBuf {
    if let Some(d) = &opt.cache_dir {
        return d.clone();
    }
    if let Some(d) = std::env::var_os("SQUEEZEFLOW_CACHE") {
        return PathBuf::from(d);
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache").join("squeezeflow");
    }
    std::env::temp_dir().join("squeezeflow-cache")
}

/// Removes a folder when dropped (if it is still there).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), SimError> {
    let out = cmd
        .output()
        .map_err(|e| SimError::Tool(format!("{what}: cannot start: {e}")))?;
    if !out.status.success() {
        let mut msg = String::from_utf8_lossy(&out.stderr).into_owned();
        msg.push_str(&String::from_utf8_lossy(&out.stdout));
        let tail: Vec<&str> = msg
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(40)
            .collect();
        // Verilator on a full disk says only "make: No targets. Stop." (it could not write the
        // makefile); the compiler says "No space left on device".
        let hint = if msg.contains("No space left") || msg.contains("No targets") {
            "\n(this is what a full disk gives: check the free space where models are built, \
             $SQUEEZEFLOW_CACHE or ~/.cache/squeezeflow)"
        } else {
            ""
        };
        return Err(SimError::Tool(format!(
            "{what} failed:\n{}{hint}",
            tail.join("\n")
        )));
    }
    Ok(())
}

fn verilator_root() -> Result<PathBuf, SimError> {
    let out = Command::new("verilator")
        .arg("--getenv")
        .arg("VERILATOR_ROOT")
        .output()
        .map_err(|e| SimError::Tool(format!("verilator: {e}")))?;
    let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !root.join("include").join("verilated.h").is_file() {
        return Err(SimError::Tool(format!(
            "verilator's include files are not under {}",
            root.display()
        )));
    }
    Ok(root)
}

fn shim_source(ports: &[Port], trace: bool) -> String {
    let mut set = String::new();
    let mut get = String::new();
    for (i, p) in ports.iter().enumerate() {
        let m = p.cpp_name();
        match p.dir {
            Dir::Input => set.push_str(&format!("    case {i}: s->m->{m} = v; break;\n")),
            Dir::Output => {}
        }
        get.push_str(&format!("    case {i}: return (uint64_t)s->m->{m};\n"));
    }
    let (inc, field, open, dump, close) = if trace {
        (
            "#include \"verilated_vcd_c.h\"\n",
            "    VerilatedVcdC* tfp = nullptr;\n",
            "    int32_t r = -2;\n    SQF_GUARD(s, { s->ctx->traceEverOn(true); s->tfp = new VerilatedVcdC; s->m->trace(s->tfp, 99); s->tfp->open(path); r = s->tfp->isOpen() ? 1 : -1; });\n    return r;\n",
            "    if (s->tfp) s->tfp->dump(t);\n",
            // After a fatal error the file cannot be flushed: leave it (deleting it would flush).
            "    if (s->tfp && !s->dead) { s->tfp->close(); delete s->tfp; } s->tfp = nullptr;\n",
        )
    } else {
        (
            "",
            "",
            "    (void)s; (void)path; return 0;\n",
            "    (void)s; (void)t;\n",
            "    (void)s;\n",
        )
    };
    format!(
        r#"// Generated by squeezeflow-sim: the C ABI of one verilated design. Verilator's fatal
// errors ($stop, a bad $readmemh word, a trace file that cannot be written) come here instead of
// printing and aborting the process (the model is built with VL_USER_FATAL): the error is thrown,
// caught at the C boundary, and the instance stops; sqf_error() says why.
#include <cstdint>
#include <stdexcept>
#include <string>
#include "verilated.h"
#include "Vtop.h"
{inc}
struct SqfFatal : std::runtime_error {{ using std::runtime_error::runtime_error; }};
void vl_fatal(const char* filename, int linenum, const char* hier, const char* msg) {{
    (void)hier;
    Verilated::threadContextp()->gotError(true);
    Verilated::threadContextp()->gotFinish(true);
    std::string m = (filename && filename[0])
        ? std::string(filename) + ":" + std::to_string(linenum) + ": " + msg : std::string(msg);
    throw SqfFatal(m);
}}
struct Sqf {{
    VerilatedContext* ctx;
    Vtop* m;
    bool dead = false;
    std::string err;
{field}}};
#define SQF_GUARD(s, body) do {{ if ((s)->dead) break; try {{ body; }} \
    catch (const std::exception& e) {{ (s)->dead = true; (s)->err = e.what(); }} }} while (0)
extern "C" {{
void* sqf_new() {{
    Sqf* s = new Sqf();
    s->ctx = new VerilatedContext;
    s->m = new Vtop{{s->ctx}};
    return s;
}}
void sqf_free(void* p) {{
    Sqf* s = (Sqf*)p;
    // A stopped model is left as it is (its final blocks and destructors could stop again).
    if (s->dead) return;
    SQF_GUARD(s, s->m->final());
    if (s->dead) return;
    delete s->m;
    delete s->ctx;
    delete s;
}}
const char* sqf_error(void* p) {{
    Sqf* s = (Sqf*)p;
    return s->dead ? s->err.c_str() : nullptr;
}}
void sqf_set(void* p, int32_t port, uint64_t v) {{
    Sqf* s = (Sqf*)p;
    switch (port) {{
{set}    default: break;
    }}
}}
uint64_t sqf_get(void* p, int32_t port) {{
    Sqf* s = (Sqf*)p;
    switch (port) {{
{get}    default: return 0;
    }}
}}
void sqf_eval(void* p) {{ Sqf* s = (Sqf*)p; SQF_GUARD(s, s->m->eval()); }}
int32_t sqf_trace_open(void* p, const char* path) {{
    Sqf* s = (Sqf*)p;
{open}}}
void sqf_trace_dump(void* p, uint64_t t) {{
    Sqf* s = (Sqf*)p;
    SQF_GUARD(s, {{
{dump}    }});
}}
void sqf_trace_close(void* p) {{
    Sqf* s = (Sqf*)p;
    SQF_GUARD(s, {{
{close}    }});
}}
}}
"#
    )
}

type NewFn = unsafe extern "C" fn() -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type SetFn = unsafe extern "C" fn(*mut c_void, i32, u64);
type GetFn = unsafe extern "C" fn(*mut c_void, i32) -> u64;
type EvalFn = unsafe extern "C" fn(*mut c_void);
type TraceOpenFn = unsafe extern "C" fn(*mut c_void, *const c_char) -> i32;
type ErrorFn = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type TraceDumpFn = unsafe extern "C" fn(*mut c_void, u64);

/// A compiled, loaded design.
pub struct Model {
    _lib: libloading::Library,
    new: NewFn,
    free: FreeFn,
    set: SetFn,
    get: GetFn,
    eval: EvalFn,
    trace_open: TraceOpenFn,
    trace_dump: TraceDumpFn,
    trace_close: FreeFn,
    error: ErrorFn,
    pub ports: Vec<Port>,
    /// The cache directory holding the build.
    pub dir: PathBuf,
}

impl Model {
    /// Verilates `sources` (files read in order; the first module of `top_file` is the top)
    /// and loads the result. `mem_dir` is where `.mem` files named in `FILE("...")` parameters live.
    pub fn build(
        sources: &[PathBuf],
        top_file: &Path,
        mem_dir: &Path,
        opt: &BuildOptions,
    ) -> Result<Model, SimError> {
        for tool in ["verilator", "g++", "make"] {
            if which(tool).is_none() {
                return Err(SimError::Tool(format!(
                    "`{tool}` is not installed or not on PATH (run scripts/setup.sh, or \
                     apt-get install verilator g++ make)"
                )));
            }
        }
        let mem_dir = mem_dir
            .canonicalize()
            .map_err(SimError::io(mem_dir.display()))?;
        let top_text = std::fs::read_to_string(top_file)
            .map_err(SimError::io(format!("reading {}", top_file.display())))?;
        let top = first_module(&top_text)
            .ok_or_else(|| SimError::Design(format!("{} declares no module", top_file.display())))?
            .to_string();
        let ports = parse_ports(&top_text, &top)?;
        // Every .mem file the design names must exist: a clear error now, not an x later.
        // The cache key: FNV-1a 64 over length-prefixed parts (stable across Rust releases and
        // runs, unlike `DefaultHasher`), including the Verilator that builds the model.
        let mut hasher = Fnv64::new();
        hasher.part(BRIDGE_VERSION.to_string().as_bytes());
        hasher.part(verilator_version()?.as_bytes());
        hasher.part(&[opt.trace as u8]);
        hasher.part(&(opt.threads.max(1) as u64).to_le_bytes());
        hasher.part(mem_dir.as_os_str().as_encoded_bytes());
        let mut texts = Vec::new();
        for src in sources {
            let text = std::fs::read_to_string(src)
                .map_err(SimError::io(format!("reading {}", src.display())))?;
            hasher.part(text.as_bytes());
            texts.push((src.clone(), text));
        }
        let mut mem_names = Vec::new();
        for (_, text) in &texts {
            let mut rest = text.as_str();
            while let Some(i) = rest.find(".FILE(\"") {
                rest = &rest[i + 7..];
                let end = rest.find('"').unwrap_or(0);
                mem_names.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
        mem_names.sort();
        mem_names.dedup();
        for name in &mem_names {
            let p = mem_dir.join(name);
            let bytes = std::fs::read(&p).map_err(|e| {
                SimError::Design(format!(
                    "memory file {} is missing or unreadable: {e}",
                    p.display()
                ))
            })?;
            hasher.part(&bytes);
        }
        let key = format!("{:016x}", hasher.finish());
        let dir = cache_root(opt).join("verilator").join(&key);
        let lib_path = dir.join("libsqfmodel.so");
        if !lib_path.is_file() {
            Self::compile(&dir, &texts, &mem_dir, &top, &ports, opt)?;
        } else if opt.verbose {
            eprintln!("squeezeflow-sim: using cached model {}", dir.display());
        }
        Self::load(&lib_path, ports, dir)
    }

    fn compile(
        dir: &Path,
        texts: &[(PathBuf, String)],
        mem_dir: &Path,
        top: &str,
        ports: &[Port],
        opt: &BuildOptions,
    ) -> Result<(), SimError> {
        let root = verilator_root()?;
        let parent = dir.parent().expect("cache dir has a parent");
        std::fs::create_dir_all(parent).map_err(SimError::io(parent.display()))?;
        // Build in a private directory, then rename: concurrent builds of one key are safe.
        static BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = parent.join(format!("tmp-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(SimError::io(tmp.display()))?;
        // A failed build leaves nothing in the cache (a finished one is renamed away first).
        let _cleanup = RemoveOnDrop(tmp.clone());
        let mut files = Vec::new();
        let prefix = format!("{}/", mem_dir.display());
        for (i, (src, text)) in texts.iter().enumerate() {
            let text = text.replace(".FILE(\"", &format!(".FILE(\"{prefix}"));
            let name = format!(
                "src{i}_{}",
                src.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("design.v")
            );
            let p = tmp.join(name);
            std::fs::write(&p, text).map_err(SimError::io(p.display()))?;
            files.push(p);
        }
        if opt.verbose {
            eprintln!("squeezeflow-sim: verilating into {}", tmp.display());
        }
        let obj = tmp.join("obj");
        let mut cmd = Command::new("verilator");
        cmd.args([
            "--cc",
            "-O3",
            "--x-assign",
            "fast",
            "--x-initial",
            "fast",
            "--noassert",
        ])
        .args([
            "-Wno-fatal",
            "-Wno-lint",
            "-Wno-style",
            "--top-module",
            top,
            "--prefix",
            "Vtop",
        ])
        .args([
            "-CFLAGS",
            // Fatal errors come to the shim's vl_fatal (see shim_source), not abort().
            "-fPIC -O2 -DVL_USER_FATAL",
            "--build",
            "-j",
            &build_jobs(),
            "--Mdir",
        ])
        .arg(&obj);
        if opt.trace {
            cmd.arg("--trace");
        }
        if opt.threads > 1 {
            cmd.arg("--threads").arg(opt.threads.to_string());
        }
        cmd.args(&files);
        run(&mut cmd, "verilator")?;
        let shim = tmp.join("shim.cpp");
        std::fs::write(&shim, shim_source(ports, opt.trace))
            .map_err(SimError::io(shim.display()))?;
        let inc = root.join("include");
        let mut cxx = Command::new("g++");
        cxx.args([
            "-shared",
            "-fPIC",
            "-O2",
            "-DVL_USER_FATAL",
            "-std=c++17",
            "-faligned-new",
            "-o",
        ])
        .arg(tmp.join("libsqfmodel.so"))
        .arg(&shim)
        .arg("-I")
        .arg(&obj)
        .arg("-I")
        .arg(&inc)
        .arg("-I")
        .arg(inc.join("vltstd"))
        .arg(obj.join("Vtop__ALL.a"));
        let verilated = obj.join("libverilated.a");
        if verilated.is_file() {
            cxx.arg(&verilated);
        } else {
            cxx.arg(inc.join("verilated.cpp"))
                .arg(inc.join("verilated_threads.cpp"));
            if opt.trace {
                cxx.arg(inc.join("verilated_vcd_c.cpp"));
            }
        }
        cxx.arg("-pthread").arg("-latomic");
        run(&mut cxx, "g++ (linking the verilated model)")?;
        let _ = std::fs::remove_dir_all(dir);
        std::fs::rename(&tmp, dir).or_else(|e| {
            // Another build of the same key won the race: use it.
            if dir.join("libsqfmodel.so").is_file() {
                let _ = std::fs::remove_dir_all(&tmp);
                Ok(())
            } else {
                Err(SimError::io(dir.display())(e))
            }
        })
    }

    fn load(lib_path: &Path, ports: Vec<Port>, dir: PathBuf) -> Result<Model, SimError> {
        // SAFETY: the library is one we just built from our own shim; its symbols have the
        // signatures declared above.
        unsafe {
            let lib = libloading::Library::new(lib_path)
                .map_err(|e| SimError::Tool(format!("loading {}: {e}", lib_path.display())))?;
            macro_rules! sym {
                ($name:literal, $t:ty) => {
                    *lib.get::<$t>($name)
                        .map_err(|e| SimError::Tool(format!("symbol {}: {e}", stringify!($name))))?
                };
            }
            let new = sym!(b"sqf_new", NewFn);
            let free = sym!(b"sqf_free", FreeFn);
            let set = sym!(b"sqf_set", SetFn);
            let get = sym!(b"sqf_get", GetFn);
            let eval = sym!(b"sqf_eval", EvalFn);
            let trace_open = sym!(b"sqf_trace_open", TraceOpenFn);
            let trace_dump = sym!(b"sqf_trace_dump", TraceDumpFn);
            let trace_close = sym!(b"sqf_trace_close", FreeFn);
            let error = sym!(b"sqf_error", ErrorFn);
            Ok(Model {
                _lib: lib,
                new,
                free,
                set,
                get,
                eval,
                trace_open,
                trace_dump,
                trace_close,
                error,
                ports,
                dir,
            })
        }
    }

    /// Index of a port by name.
    pub fn port(&self, name: &str) -> Result<usize, SimError> {
        self.ports
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| SimError::Design(format!("the design has no port `{name}`")))
    }

    /// A fresh instance of the design (memories loaded, registers at their initial values).
    pub fn instance(&self) -> Instance<'_> {
        // SAFETY: sqf_new returns a valid handle, freed in Drop.
        let h = unsafe { (self.new)() };
        let mut inst = Instance {
            model: self,
            h,
            time: 0,
            tracing: false,
        };
        // Evaluate once with every input at 0, so the first rising clock is seen as an edge.
        inst.eval();
        inst
    }
}

/// One running instance of a [`Model`].
pub struct Instance<'a> {
    model: &'a Model,
    h: *mut c_void,
    time: u64,
    tracing: bool,
}

impl Instance<'_> {
    #[inline]
    pub fn set(&mut self, port: usize, v: u64) {
        // SAFETY: the handle is live; unknown indices are ignored by the shim.
        unsafe { (self.model.set)(self.h, port as i32, v) }
    }
    #[inline]
    pub fn get(&self, port: usize) -> u64 {
        // SAFETY: as above.
        unsafe { (self.model.get)(self.h, port as i32) }
    }
    #[inline]
    pub fn eval(&mut self) {
        // SAFETY: as above.
        unsafe { (self.model.eval)(self.h) }
    }
    /// Starts writing a VCD file (the model must be built with `trace`).
    pub fn trace(&mut self, path: &Path) -> Result<(), SimError> {
        let c = CString::new(path.to_string_lossy().as_bytes())
            .map_err(|_| SimError::Invalid("trace path contains a NUL byte".into()))?;
        // SAFETY: the handle is live and the string outlives the call.
        let ok = unsafe { (self.model.trace_open)(self.h, c.as_ptr()) };
        match ok {
            0 => Err(SimError::Design(
                "this model was built without trace support".into(),
            )),
            1 => {
                self.tracing = true;
                Ok(())
            }
            -1 => Err(SimError::Invalid(format!(
                "cannot write the VCD file {}",
                path.display()
            ))),
            _ => Err(self.stopped(&format!("writing the VCD file {}", path.display()))),
        }
    }
    /// Why the model stopped (a Verilator fatal error: `$stop`, a bad memory file, a trace that
    /// cannot be written), if it did. A stopped model ignores every later call.
    pub fn error(&self) -> Option<String> {
        // SAFETY: the handle is live; the string lives as long as the instance.
        unsafe {
            let p = (self.model.error)(self.h);
            (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
        }
    }
    /// [`Instance::error`] as a result.
    pub fn check(&self) -> Result<(), SimError> {
        match self.error() {
            Some(_) => Err(self.stopped("the simulation")),
            None => Ok(()),
        }
    }
    fn stopped(&self, during: &str) -> SimError {
        SimError::Design(format!(
            "Verilator stopped {during}: {}",
            self.error().unwrap_or_else(|| "no reason given".into())
        ))
    }
    /// Stops writing the VCD file, flushing it: an error if it could not be written (a full
    /// disk).
    pub fn finish_trace(&mut self) -> Result<(), SimError> {
        if self.tracing {
            self.tracing = false;
            // SAFETY: the handle is live.
            unsafe { (self.model.trace_close)(self.h) };
        }
        self.check()
    }
    /// One clock cycle on port `clock`: rising edge, then falling edge (dumped when tracing).
    #[inline]
    pub fn tick(&mut self, clock: usize) {
        self.set(clock, 1);
        self.eval();
        if self.tracing {
            // SAFETY: the handle is live.
            unsafe { (self.model.trace_dump)(self.h, self.time) };
        }
        self.time += 5;
        self.set(clock, 0);
        self.eval();
        if self.tracing {
            // SAFETY: the handle is live.
            unsafe { (self.model.trace_dump)(self.h, self.time) };
        }
        self.time += 5;
    }
}

impl Drop for Instance<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle is live and freed exactly once.
        unsafe {
            if self.tracing {
                (self.model.trace_close)(self.h);
            }
            (self.model.free)(self.h)
        }
    }
}

#[cfg(test)]
mod key_tests {
    use super::Fnv64;

    #[test]
    fn the_cache_key_hash_is_fnv1a_64() {
        // Published FNV-1a 64 test vectors.
        for (input, want) in [
            (&b""[..], 0xcbf2_9ce4_8422_2325u64),
            (b"a", 0xaf63_dc4c_8601_ec8c),
            (b"foobar", 0x8594_4171_f739_67e8),
        ] {
            let mut h = Fnv64::new();
            h.bytes(input);
            assert_eq!(h.finish(), want, "{input:?}");
        }
        // Parts are length-prefixed: moving a byte across a boundary changes the key.
        let (mut a, mut b) = (Fnv64::new(), Fnv64::new());
        a.part(b"ab");
        a.part(b"c");
        b.part(b"a");
        b.part(b"bc");
        assert_ne!(a.finish(), b.finish());
    }
}
