# Sourced by the scripts in scripts/windows/: the toolchain and directories
# of the Windows build. Nothing here touches the Linux build.
#
#   WIN_TARGET     the Rust target triple, x86_64-pc-windows-gnu
#   WIN_CARGO      Debian's cargo-web (/usr/bin/cargo), never rustup's cargo:
#                  rustup cannot fetch the Windows standard library here, so
#                  std is built from rust-web-src's sources (-Zbuild-std)
#   WIN_RUSTC      Debian's rustc-web (/usr/bin/rustc)
#   CARGO_TARGET_DIR  target/windows, apart from the Linux target/ that the
#                  C tests and bindings load libwantu.so from
#   WIN_OUT        build/windows: wantu.dll, wantu.dll.a, libwantu.a

_win_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WIN_TARGET=x86_64-pc-windows-gnu
WIN_CARGO="${WIN_CARGO:-/usr/bin/cargo}"
WIN_RUSTC="${WIN_RUSTC:-/usr/bin/rustc}"
WIN_CC="${WIN_CC:-x86_64-w64-mingw32-gcc}"
WIN_OUT="$_win_repo/build/windows"
export CARGO_TARGET_DIR="$_win_repo/target/windows"
export RUSTC="$WIN_RUSTC"
export RUSTDOC=/usr/bin/rustdoc
# -Zbuild-std is a nightly flag; Debian's stable rustc accepts it with this.
export RUSTC_BOOTSTRAP=1
# The linker and the C compiler for crates with C parts (ring).
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER="$WIN_CC"
export CC_x86_64_pc_windows_gnu="$WIN_CC"
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
# rustup's proxies must not take over when cargo calls rustc.
unset RUSTUP_TOOLCHAIN
# Wine's own diagnostics are noise on the tests' output; no display is used.
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY WAYLAND_DISPLAY
# wine64 from Debian's package (there is no /usr/bin/wine without the
# `wine` wrapper package, which pulls in the 32-bit half).
WINE="${WINE:-/usr/lib/wine/wine64}"
WINESERVER="${WINESERVER:-/usr/lib/wine/wineserver}"
