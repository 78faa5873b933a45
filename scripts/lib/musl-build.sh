# shellcheck shell=bash
# build_musl_handler: builds the static x86_64-unknown-linux-musl release `handler` and prints
# its path on stdout (everything else goes to stderr). Sourced by scripts/package; the lead can
# reuse it from scripts/build, or call `scripts/package --musl-only`.
#
# One route on every platform: cargo-zigbuild with zig as the linker, both from PyPI into a
# private venv, so no system musl-gcc or cross linker is needed.
#   Linux x86-64: tested.  macOS and Windows (Git Bash/WSL): untested; the same commands are
#   expected to work because zig ships its own musl libc and linker.

ZIGBUILD_VERSION="0.24.0"
ZIGLANG_VERSION="0.17.0"
MUSL_TARGET="x86_64-unknown-linux-musl"

# The venv lives at the repo root (/.venv-build, git-ignored).
_build_venv() {
	local venv="$1" py
	if [ ! -x "$venv/bin/cargo-zigbuild" ] || ! "$venv/bin/python" -c 'import ziglang' 2>/dev/null; then
		py="$(command -v python3 || command -v python || true)"
		[ -n "$py" ] || {
			printf 'build_musl_handler: python3 is needed to install zig and cargo-zigbuild from PyPI\n' >&2
			return 1
		}
		printf 'build_musl_handler: installing ziglang==%s cargo-zigbuild==%s into %s\n' "$ZIGLANG_VERSION" "$ZIGBUILD_VERSION" "$venv" >&2
		"$py" -m venv "$venv" >&2 || return 1
		"$venv/bin/python" -m pip install -q --disable-pip-version-check \
			"ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$ZIGBUILD_VERSION" >&2 || return 1
	fi
}

build_musl_handler() {
	local root="${1:-$REPO_ROOT}" venv bindir
	venv="$root/.venv-build"
	_build_venv "$venv" || return 1
	# Windows venvs put executables in Scripts/ (untested path).
	bindir="$venv/bin"
	[ -d "$bindir" ] || bindir="$venv/Scripts"
	if command -v rustup >/dev/null 2>&1; then
		rustup target list --installed 2>/dev/null | grep -qx "$MUSL_TARGET" ||
			rustup target add "$MUSL_TARGET" >&2 || return 1
	fi
	# cargo-zigbuild finds zig as `python -m ziglang`; the venv's python must come first on PATH.
	(
		cd "$root" &&
			PATH="$bindir:$PATH" cargo zigbuild --release --target "$MUSL_TARGET" --bin handler >&2
	) || return 1
	printf '%s\n' "$root/target/$MUSL_TARGET/release/handler"
}
