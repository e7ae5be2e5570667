# The minimum supported Rust version, as the workspace declares it (sourced).
MSRV=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$MSRV" ] || { echo "no rust-version in Cargo.toml" >&2; exit 1; }
