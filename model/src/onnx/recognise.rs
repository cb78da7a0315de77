//! The recogniser: walks the graph from its input and matches the SqueezeNet family's pattern
//! (conv1, max pools, Fire modules with their bypasses, conv10 and the average pool), returning
//! what it [`Found`] or an error naming the first node that does not fit.

use super::err;
use super::graph::{is_transparent, Graph};
use super::protobuf::{attr_int, attr_ints, attr_str, describe, tensor_f32};
use crate::error::ModelError;
use crate::network::pool_out_size;

/// One convolution found in the graph.
#[derive(Debug)]
pub(super) struct FoundConv {
    node: usize,
    pub(super) out_c: usize,
    pub(super) kernel: usize,
    pub(super) stride: usize,
    pad: usize,
    pub(super) weights: Vec<f32>,
    pub(super) bias: Vec<f32>,
}

#[derive(Debug)]
pub(super) enum FoundBypass {
    None,
    Identity,
    Conv(FoundConv),
}

#[derive(Debug)]
pub(super) struct FoundFire {
    pub(super) squeeze: FoundConv,
    pub(super) expand1x1: FoundConv,
    pub(super) expand3x3: FoundConv,
    pub(super) bypass: FoundBypass,
}

/// What the recogniser found.
#[derive(Debug)]
pub(super) struct Found {
    pub(super) input_size: usize,
    pub(super) conv1: FoundConv,
    pub(super) fires: Vec<FoundFire>,
    pub(super) pool_after: Vec<String>,
    pub(super) conv10: FoundConv,
}

impl<'a> Graph<'a> {
    /// Reads a Conv node's parameters and checks what the family allows.
    fn conv(&self, i: usize, in_c: usize) -> Result<FoundConv, ModelError> {
        let n = self.node(i);
        let d = describe(i, n);
        let bad = |m: String| err(format!("{d}: {m}"));
        let wname = n
            .input
            .get(1)
            .ok_or_else(|| bad("has no weight input".into()))?;
        let w = self
            .inits
            .get(wname.as_str())
            .ok_or_else(|| bad(format!("its weight '{wname}' is not an initializer")))?;
        if w.dims.len() != 4 {
            return Err(bad(format!(
                "weight '{wname}' has shape {:?}, not OIHW",
                w.dims
            )));
        }
        let dims: Vec<usize> = w.dims.iter().map(|&x| x.max(0) as usize).collect();
        let (out_c, w_in, kh, kw) = (dims[0], dims[1], dims[2], dims[3]);
        if kh != kw || kh == 0 {
            return Err(bad(format!("a {kh}x{kw} kernel is not square")));
        }
        if let Some(ks) = attr_ints(n, "kernel_shape") {
            if ks.len() != 2 || ks[0] as usize != kh || ks[1] as usize != kw {
                return Err(bad(format!(
                    "kernel_shape {ks:?} disagrees with the weight's {kh}x{kw}"
                )));
            }
        }
        let group = attr_int(n, "group", 1);
        if group != 1 {
            return Err(bad(format!(
                "group {group}: grouped convolutions are not part of the family"
            )));
        }
        if w_in != in_c {
            return Err(bad(format!(
                "takes {w_in} input channels, the tensor it reads has {in_c}"
            )));
        }
        if let Some(d) = attr_ints(n, "dilations") {
            if d.iter().any(|&x| x != 1) {
                return Err(bad(format!("dilations {d:?} are not supported")));
            }
        }
        let strides = attr_ints(n, "strides").unwrap_or_else(|| vec![1, 1]);
        if strides.len() != 2 || strides[0] != strides[1] || strides[0] < 1 {
            return Err(bad(format!("strides {strides:?} are not square")));
        }
        let auto_pad = attr_str(n, "auto_pad");
        let pads = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 4]);
        if !(auto_pad.is_empty() || auto_pad == "NOTSET" || (auto_pad == "VALID")) {
            return Err(bad(format!("auto_pad {auto_pad} is not supported")));
        }
        if pads.len() != 4 || pads.iter().any(|&p| p != pads[0]) || pads[0] < 0 {
            return Err(bad(format!("pads {pads:?} are not the same on every side")));
        }
        let weights = tensor_f32(w)?;
        let bias = match n.input.get(2).filter(|b| !b.is_empty()) {
            None => vec![0.0; out_c],
            Some(bname) => {
                let b = self
                    .inits
                    .get(bname.as_str())
                    .ok_or_else(|| bad(format!("its bias '{bname}' is not an initializer")))?;
                if b.dims.len() != 1 {
                    return Err(bad(format!(
                        "bias '{bname}' has shape {:?}; a Conv bias is one-dimensional, [{out_c}]",
                        b.dims
                    )));
                }
                let v = tensor_f32(b)?;
                if v.len() != out_c {
                    return Err(bad(format!(
                        "bias '{bname}' has {} values for {out_c} output channels",
                        v.len()
                    )));
                }
                v
            }
        };
        Ok(FoundConv {
            node: i,
            out_c,
            kernel: kh,
            stride: strides[0] as usize,
            pad: pads[0] as usize,
            weights,
            bias,
        })
    }

    /// Checks a conv's geometry against what its role needs.
    fn expect_geometry(
        &self,
        c: &FoundConv,
        role: &str,
        kernel: usize,
        pad: usize,
    ) -> Result<(), ModelError> {
        if c.kernel != kernel || c.stride != 1 || c.pad != pad {
            return Err(err(format!(
                "{} does not fit the SqueezeNet family: as {role} it should be a {kernel}x{kernel} \
                 convolution with stride 1 and padding {pad}, it is {k}x{k} with stride {} and \
                 padding {}",
                describe(c.node, self.node(c.node)),
                c.stride,
                c.pad,
                k = c.kernel
            )));
        }
        Ok(())
    }

    /// A MaxPool node: checks 3x3, stride 2, no padding and the ceil-mode size.
    fn maxpool(&self, i: usize, size: usize) -> Result<usize, ModelError> {
        let n = self.node(i);
        let d = describe(i, n);
        let ks = attr_ints(n, "kernel_shape").unwrap_or_default();
        let st = attr_ints(n, "strides").unwrap_or_else(|| vec![1, 1]);
        let pads = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 4]);
        if ks != [3, 3] || st != [2, 2] || pads.iter().any(|&p| p != 0) {
            return Err(err(format!(
                "{d} does not fit the SqueezeNet family: max pools are 3x3 with stride 2 and no \
                 padding (kernel_shape {ks:?}, strides {st:?}, pads {pads:?})"
            )));
        }
        if let Some(d2) = attr_ints(n, "dilations") {
            if d2.iter().any(|&x| x != 1) {
                return Err(err(format!("{d}: dilations {d2:?} are not supported")));
            }
        }
        let ap = attr_str(n, "auto_pad");
        if !(ap.is_empty() || ap == "NOTSET" || ap == "VALID") {
            return Err(err(format!("{d}: auto_pad {ap} is not supported")));
        }
        let out = pool_out_size(size, 3, 2).ok_or_else(|| {
            err(format!(
                "{d}: a 3x3 pool does not fit the {size}x{size} map"
            ))
        })?;
        if attr_int(n, "ceil_mode", 0) == 0 && (size - 3) / 2 + 1 != out {
            return Err(err(format!(
                "{d} uses floor mode, which gives a different size from the family's ceil mode on \
                 a {size}x{size} map"
            )));
        }
        Ok(out)
    }

    pub(super) fn recognise(&self) -> Result<Found, ModelError> {
        let (input, n) = self.input;
        let used = std::cell::RefCell::new(vec![false; self.nodes.len()]);
        let mut mark = |i: usize| used.borrow_mut()[i] = true;

        // conv1
        let c1 = self
            .single(input, "Conv")
            .ok_or_else(|| self.unexpected(input, "conv1 (a Conv)"))?;
        let conv1 = self.conv(c1, 3)?;
        if conv1.pad != 0 {
            return Err(err(format!(
                "{}: conv1 has padding {}; the family's conv1 has none (the input normalization \
                 folds into it only then)",
                describe(c1, self.node(c1)),
                conv1.pad
            )));
        }
        if n < conv1.kernel {
            return Err(err(format!(
                "the {n}x{n} input is smaller than conv1's kernel"
            )));
        }
        mark(c1);
        let mut cur = self.relu_after(c1)?;
        mark(self.users(self.out(c1))[0]);
        let mut size = (n - conv1.kernel) / conv1.stride + 1;
        let mut channels = conv1.out_c;
        let mut pool_after = Vec::new();
        let mut fires = Vec::new();
        let mut last = "conv1".to_string();

        loop {
            // A max pool after the last layer?
            if let Some(p) = self.single(cur, "MaxPool") {
                if pool_after.contains(&last) {
                    return Err(err(format!(
                        "{} does not fit the SqueezeNet family: a second pool after {last}",
                        describe(p, self.node(p))
                    )));
                }
                size = self.maxpool(p, size)?;
                mark(p);
                pool_after.push(last.clone());
                cur = self.out(p);
                continue;
            }
            let users = self.users(cur);
            // conv10: a single conv whose Relu feeds the average pool.
            if let [ci] = users {
                if self.node(*ci).op_type == "Conv" {
                    let t = self.out(*ci);
                    if let Some(r) = self.single(t, "Relu") {
                        let rt = self.out(r);
                        if let [pi] = self.users(rt) {
                            let op = self.node(*pi).op_type.as_str();
                            if op == "GlobalAveragePool" || op == "AveragePool" {
                                let conv10 = self.conv(*ci, channels)?;
                                self.expect_geometry(&conv10, "conv10", 1, 0)?;
                                mark(*ci);
                                mark(r);
                                let end = self.avgpool(*pi, size, &mut mark)?;
                                if !self.outputs.iter().any(|o| self.resolve(o) == end) {
                                    return Err(err(format!(
                                        "the average pool's result '{end}' is not the graph's \
                                         output (outputs: {})",
                                        self.outputs.join(", ")
                                    )));
                                }
                                if self.outputs.len() != 1 {
                                    return Err(err(format!(
                                        "the graph has {} outputs; the family has one (the logits)",
                                        self.outputs.len()
                                    )));
                                }
                                // Every node must be on the chain.
                                for (i, nd) in self.nodes.iter().enumerate() {
                                    if !used.borrow()[i] && !is_transparent(&nd.op_type) {
                                        return Err(err(format!(
                                            "{} does not fit the SqueezeNet family: it is not on \
                                             the chain from the input to the logits",
                                            describe(i, nd)
                                        )));
                                    }
                                }
                                return Ok(Found {
                                    input_size: n,
                                    conv1,
                                    fires,
                                    pool_after,
                                    conv10,
                                });
                            }
                        }
                    }
                }
            }
            // A Fire module.
            let idx = fires.len() + 2;
            let (fire, out) = self.fire(cur, channels, idx, &mut mark)?;
            channels = fire.expand1x1.out_c + fire.expand3x3.out_c;
            fires.push(fire);
            last = format!("fire{idx}");
            cur = out;
        }
    }

    /// The global (or whole-map) average pool and an optional Flatten; returns the final tensor.
    fn avgpool(
        &self,
        i: usize,
        size: usize,
        mark: &mut impl FnMut(usize),
    ) -> Result<&'a str, ModelError> {
        let n = self.node(i);
        if n.op_type == "AveragePool" {
            let ks = attr_ints(n, "kernel_shape").unwrap_or_default();
            let pads = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 4]);
            if ks != [size as i64, size as i64] || pads.iter().any(|&p| p != 0) {
                return Err(err(format!(
                    "{} does not fit the SqueezeNet family: the average pool must cover the whole \
                     {size}x{size} map without padding (kernel_shape {ks:?}, pads {pads:?})",
                    describe(i, n)
                )));
            }
        }
        mark(i);
        let mut t = self.out(i);
        if let Some(f) = self.single(t, "Flatten") {
            let axis = attr_int(self.node(f), "axis", 1);
            if axis != 1 {
                return Err(err(format!(
                    "{}: Flatten with axis {axis} (the family flattens from axis 1)",
                    describe(f, self.node(f))
                )));
            }
            mark(f);
            t = self.out(f);
        }
        if let Some(&u) = self.users(t).first() {
            return Err(err(format!(
                "{} does not fit the SqueezeNet family: nothing follows the average pool",
                describe(u, self.node(u))
            )));
        }
        Ok(t)
    }

    /// A Fire module reading `x` (with `in_c` channels); returns it and its output tensor.
    fn fire(
        &self,
        x: &'a str,
        in_c: usize,
        idx: usize,
        mark: &mut impl FnMut(usize),
    ) -> Result<(FoundFire, &'a str), ModelError> {
        let want = format!("fire{idx} (a 1x1 squeeze Conv), a max pool or conv10");
        let users = self.users(x);
        if users.is_empty() {
            return Err(self.unexpected(x, &want));
        }
        // The squeeze: the reader whose Relu feeds exactly two Convs.
        let is_squeeze = |i: usize| -> bool {
            if self.node(i).op_type != "Conv" {
                return false;
            }
            let Some(r) = self.single(self.out(i), "Relu") else {
                return false;
            };
            let u = self.users(self.out(r));
            u.len() == 2 && u.iter().all(|&j| self.node(j).op_type == "Conv")
        };
        let Some(&sq) = users.iter().find(|&&i| is_squeeze(i)) else {
            // Name the first reader that is not a possible bypass.
            let i = users
                .iter()
                .copied()
                .find(|&i| self.node(i).op_type != "Add")
                .unwrap_or(users[0]);
            return Err(err(format!(
                "{} does not fit the SqueezeNet family: expected {want}",
                describe(i, self.node(i))
            )));
        };
        let squeeze = self.conv(sq, in_c)?;
        self.expect_geometry(&squeeze, &format!("fire{idx}.squeeze"), 1, 0)?;
        mark(sq);
        let sr = self.users(self.out(sq))[0];
        mark(sr);
        let s_out = self.out(sr);
        let mut e1 = None;
        let mut e3 = None;
        for &e in self.users(s_out) {
            let c = self.conv(e, squeeze.out_c)?;
            if c.kernel == 1 && e1.is_none() {
                self.expect_geometry(&c, &format!("fire{idx}.expand1x1"), 1, 0)?;
                e1 = Some(c);
            } else if c.kernel == 3 && e3.is_none() {
                self.expect_geometry(&c, &format!("fire{idx}.expand3x3"), 3, 1)?;
                e3 = Some(c);
            } else {
                return Err(err(format!(
                    "{} does not fit the SqueezeNet family: fire{idx}'s expands are one 1x1 and \
                     one 3x3 convolution",
                    describe(e, self.node(e))
                )));
            }
        }
        let (Some(e1), Some(e3)) = (e1, e3) else {
            return Err(err(format!("fire{idx}: expands not found")));
        };
        let r1 = self.relu_after(e1.node)?;
        let r3 = self.relu_after(e3.node)?;
        mark(e1.node);
        mark(e3.node);
        mark(self.users(self.out(e1.node))[0]);
        mark(self.users(self.out(e3.node))[0]);
        let cat = match (self.users(r1), self.users(r3)) {
            ([a], [b]) if a == b && self.node(*a).op_type == "Concat" => *a,
            _ => return Err(self.unexpected(r1, &format!("fire{idx}'s Concat of the two expands"))),
        };
        let cn = self.node(cat);
        let ins: Vec<&str> = cn.input.iter().map(|s| self.resolve(s)).collect();
        if ins != [r1, r3] {
            return Err(err(format!(
                "{} does not fit the SqueezeNet family: fire{idx} concatenates its expands as \
                 {ins:?}; the family puts expand1x1 ('{r1}') first, then expand3x3 ('{r3}')",
                describe(cat, cn)
            )));
        }
        let axis = attr_int(cn, "axis", 1);
        if axis != 1 {
            return Err(err(format!(
                "{}: concatenation on axis {axis}, not channels (1)",
                describe(cat, cn)
            )));
        }
        mark(cat);
        let cat_out = self.out(cat);
        let out_c = e1.out_c + e3.out_c;

        // The bypass: other readers of x.
        let others: Vec<usize> = users.iter().copied().filter(|&i| i != sq).collect();
        let (bypass, add_src) = match others.as_slice() {
            [] => (FoundBypass::None, None),
            [a] if self.node(*a).op_type == "Add" => {
                if in_c != out_c {
                    return Err(err(format!(
                        "{}: a simple bypass around fire{idx} adds {in_c} channels to {out_c}",
                        describe(*a, self.node(*a))
                    )));
                }
                (FoundBypass::Identity, Some(x))
            }
            [c] if self.node(*c).op_type == "Conv" => {
                let b = self.conv(*c, in_c)?;
                self.expect_geometry(&b, &format!("fire{idx}.bypass"), 1, 0)?;
                if b.out_c != out_c {
                    return Err(err(format!(
                        "{}: fire{idx}'s bypass convolution gives {} channels, the module {out_c}",
                        describe(*c, self.node(*c)),
                        b.out_c
                    )));
                }
                let rb = self.relu_after(*c)?;
                mark(*c);
                mark(self.users(self.out(*c))[0]);
                (FoundBypass::Conv(b), Some(rb))
            }
            [o, ..] => {
                return Err(err(format!(
                    "{} does not fit the SqueezeNet family: it reads '{x}', fire{idx}'s input, \
                     beside the squeeze (only one bypass Add or bypass Conv may)",
                    describe(*o, self.node(*o))
                )))
            }
        };
        let out = match add_src {
            None => cat_out,
            Some(src) => {
                let add = match self.single(cat_out, "Add") {
                    Some(a) => a,
                    None => {
                        return Err(self.unexpected(cat_out, &format!("fire{idx}'s bypass Add")))
                    }
                };
                let an = self.node(add);
                let mut ins: Vec<&str> = an.input.iter().map(|s| self.resolve(s)).collect();
                ins.sort();
                let mut want = vec![cat_out, src];
                want.sort();
                if ins != want {
                    return Err(err(format!(
                        "{} does not fit the SqueezeNet family: fire{idx}'s bypass Add should add \
                         '{cat_out}' and '{src}'",
                        describe(add, an)
                    )));
                }
                mark(add);
                let mut t = self.out(add);
                // A Relu after the add is a no-op (both operands are ReLU outputs).
                if let Some(r) = self.single(t, "Relu") {
                    mark(r);
                    t = self.out(r);
                }
                t
            }
        };
        Ok((
            FoundFire {
                squeeze,
                expand1x1: e1,
                expand3x3: e3,
                bypass,
            },
            out,
        ))
    }
}
