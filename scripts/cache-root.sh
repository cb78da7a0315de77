# Sourced by the setup scripts: where squeezeflow keeps its caches and tool venvs, as the Rust
# side computes it (hw/src/synth.rs, cache_root): $SQUEEZEFLOW_CACHE, else ~/.cache/squeezeflow,
# else a folder under the temporary directory when there is no HOME.
if [ -n "${SQUEEZEFLOW_CACHE:-}" ]; then
  root="$SQUEEZEFLOW_CACHE"
elif [ -n "${HOME:-}" ]; then
  root="$HOME/.cache/squeezeflow"
else
  root="${TMPDIR:-/tmp}/squeezeflow-cache"
fi
