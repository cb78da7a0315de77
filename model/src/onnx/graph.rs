//! [`Graph`]: an ONNX graph indexed for the recogniser: initializers by name, transparent nodes
//! (Dropout, Identity) resolved, the readers of every tensor, the input and the outputs.

use std::collections::HashMap;

use onnx_protobuf::{NodeProto, TensorProto};

use super::protobuf::{describe, first, input_size};
use super::{err, proto, SUPPORTED_OPS};
use crate::error::ModelError;

/// The graph with its lookups.
pub(super) struct Graph<'a> {
    pub(super) nodes: &'a [NodeProto],
    pub(super) inits: HashMap<&'a str, &'a TensorProto>,
    /// Output of a transparent node (Dropout, Identity) -> the tensor it passes on.
    alias: HashMap<&'a str, &'a str>,
    /// Tensor (resolved through aliases) -> indices of the nodes that read it.
    consumers: HashMap<&'a str, Vec<usize>>,
    pub(super) input: (&'a str, usize),
    pub(super) outputs: Vec<&'a str>,
}

pub(super) fn is_transparent(op: &str) -> bool {
    op == "Dropout" || op == "Identity"
}

impl<'a> Graph<'a> {
    pub(super) fn new(g: &'a proto::GraphProto) -> Result<Self, ModelError> {
        for (i, n) in g.node.iter().enumerate() {
            if !(n.domain.is_empty() || n.domain == "ai.onnx") {
                return Err(err(format!(
                    "{} is from the operator domain '{}', not part of the SqueezeNet family",
                    describe(i, n),
                    n.domain
                )));
            }
            if !SUPPORTED_OPS.contains(&n.op_type.as_str()) {
                return Err(err(format!(
                    "{} is not part of the SqueezeNet family (supported ops: {})",
                    describe(i, n),
                    SUPPORTED_OPS.join(", ")
                )));
            }
        }
        let mut inits: HashMap<&str, &TensorProto> = HashMap::new();
        for t in &g.initializer {
            if inits.insert(t.name.as_str(), t).is_some() {
                return Err(err(format!(
                    "initializer '{}' is defined twice: which copy is meant is not said",
                    t.name
                )));
            }
        }
        let inputs: Vec<&proto::ValueInfoProto> = g
            .input
            .iter()
            .filter(|v| !inits.contains_key(v.name.as_str()))
            .collect();
        let input = match inputs.as_slice() {
            [one] => *one,
            [] => return Err(err("the graph has no input")),
            more => {
                return Err(err(format!(
                    "the graph has {} inputs ({}); a SqueezeNet-family network has one image input",
                    more.len(),
                    more.iter()
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let size = input_size(input)?;
        let mut alias: HashMap<&str, &str> = HashMap::new();
        for n in &g.node {
            if is_transparent(&n.op_type) {
                if let (Some(i), Some(o)) = (n.input.first(), n.output.first()) {
                    alias.insert(o.as_str(), i.as_str());
                }
            }
        }
        let mut g2 = Graph {
            nodes: &g.node,
            inits,
            alias,
            consumers: HashMap::new(),
            input: (input.name.as_str(), size),
            outputs: g.output.iter().map(|o| o.name.as_str()).collect(),
        };
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            if is_transparent(&n.op_type) {
                // A Dropout's mask output must not be used.
                if let Some(mask) = n.output.get(1).filter(|m| !m.is_empty()) {
                    if g.node.iter().any(|m| m.input.contains(mask)) {
                        return Err(err(format!(
                            "{} has its mask output '{mask}' used, which does not fit inference",
                            describe(i, n)
                        )));
                    }
                }
                continue;
            }
            for inp in &n.input {
                if inp.is_empty() || g2.inits.contains_key(inp.as_str()) {
                    continue;
                }
                let r = g2.resolve(inp);
                let list = consumers.entry(r).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        g2.consumers = consumers;
        Ok(g2)
    }

    pub(super) fn resolve(&self, mut t: &'a str) -> &'a str {
        let mut hops = 0;
        while let Some(&next) = self.alias.get(t) {
            t = next;
            hops += 1;
            if hops > self.nodes.len() {
                break;
            }
        }
        t
    }

    pub(super) fn node(&self, i: usize) -> &'a NodeProto {
        &self.nodes[i]
    }

    pub(super) fn out(&self, i: usize) -> &'a str {
        self.resolve(first(&self.nodes[i].output))
    }

    pub(super) fn users(&self, t: &str) -> &[usize] {
        self.consumers.get(t).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Error for a tensor whose readers are not what the family needs at this point.
    pub(super) fn unexpected(&self, t: &str, want: &str) -> ModelError {
        match self.users(t).first() {
            Some(&i) => err(format!(
                "{} does not fit the SqueezeNet family: expected {want} reading '{t}'",
                describe(i, self.node(i))
            )),
            None => err(format!(
                "the graph ends at '{t}' where the SqueezeNet family expects {want}"
            )),
        }
    }

    /// The single node reading `t`, if it has op type `op`.
    pub(super) fn single(&self, t: &str, op: &str) -> Option<usize> {
        match self.users(t) {
            [i] if self.node(*i).op_type == op => Some(*i),
            _ => None,
        }
    }

    /// `t` read by exactly one Relu; returns its output.
    pub(super) fn relu_after(&self, conv: usize) -> Result<&'a str, ModelError> {
        let t = self.out(conv);
        match self.single(t, "Relu") {
            Some(r) => Ok(self.out(r)),
            None => Err(match self.users(t).first() {
                Some(&i) => err(format!(
                    "{} does not fit the SqueezeNet family: every convolution is followed by a Relu \
                     (after {})",
                    describe(i, self.node(i)),
                    describe(conv, self.node(conv))
                )),
                None => err(format!(
                    "{} is not followed by a Relu",
                    describe(conv, self.node(conv))
                )),
            }),
        }
    }
}
