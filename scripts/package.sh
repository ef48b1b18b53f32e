#!/usr/bin/env bash
# Builds Roster's installable Debian package (run as root on Debian 12):
#
#     bash scripts/package.sh                  # release build
#     bash scripts/package.sh --profile dev    # what scripts/test.sh installs and tests
#
# The result is target/package/roster_<version>_<arch>.deb.
#
# What is packaged is the default build, /usr/bin/roster, which verifies
# WhatsApp's certificate chain. The sandbox build (simulated server and
# phone, loopback only) is installed beside it as
# /usr/lib/roster/roster-sandbox; `roster --sandbox` (and the
# "Roster (sandbox)" launcher) hands over to it, so the binary an operator
# links a real account with never trusts a simulator.
#
# The package is assembled with dpkg-deb (Debian's own tool): the Tauri
# bundler would need tauri-cli, half an hour of compiling on this machine,
# for the same files. Its dependencies are read from the binaries with
# dpkg-shlibdeps, as Debian's packaging does.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
case "${1:-}" in
  "") ;;
  --profile)
    profile=${2:?--profile needs dev or release}
    ;;
  *)
    echo "usage: bash scripts/package.sh [--profile dev|release]" >&2
    exit 2
    ;;
esac
case "$profile" in
  dev) out=target/debug ;;
  release) out=target/release ;;
  *)
    echo "package: unknown profile '$profile' (dev or release)" >&2
    exit 2
    ;;
esac

bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
work=target/package
stage=$work/roster_${version}_${arch}
deb=$work/roster_${version}_${arch}.deb
rm -rf "$stage" "$deb"
mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/lib/roster" "$stage/usr/share/applications" \
  "$stage/usr/share/doc/roster"

# The same feature set as the test run, so a dev package reuses its build.
echo "package: the sandbox build ($profile)"
cargo build --profile "$profile" --workspace --features roster/sandbox,roster-core/sandbox --bin roster
install -m 0755 "$out/roster" "$stage/usr/lib/roster/roster-sandbox"
echo "package: the default build ($profile)"
cargo build --profile "$profile" -p roster --bin roster
install -m 0755 "$out/roster" "$stage/usr/bin/roster"
strip --strip-unneeded "$stage/usr/bin/roster" "$stage/usr/lib/roster/roster-sandbox"

install -m 0644 src-tauri/package/roster.desktop src-tauri/package/roster-sandbox.desktop \
  "$stage/usr/share/applications/"
for size in 32x32:32x32 128x128:128x128 256x256:128x128@2x 512x512:icon; do
  dir=$stage/usr/share/icons/hicolor/${size%%:*}/apps
  mkdir -p "$dir"
  install -m 0644 "icons/${size##*:}.png" "$dir/roster.png"
done
cat >"$stage/usr/share/doc/roster/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: roster
License: MIT
COPYRIGHT

# The shared libraries the two binaries link, as package dependencies.
shlibs=$work/shlibs
rm -rf "$shlibs"
mkdir -p "$shlibs/debian"
printf 'Source: roster\n\nPackage: roster\nArchitecture: any\n' >"$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O "-e$OLDPWD/$stage/usr/bin/roster" \
  "-e$OLDPWD/$stage/usr/lib/roster/roster-sandbox" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
if [ -z "$depends" ]; then
  echo "package: dpkg-shlibdeps found no dependencies" >&2
  exit 1
fi

cat >"$stage/DEBIAN/control" <<CONTROL
Package: roster
Version: $version
Architecture: $arch
Maintainer: Roster maintainers <maintainers@roster.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: $depends
Recommends: xdg-utils
Section: net
Priority: optional
Description: administer the contacts of a WhatsApp account
 Roster links to a WhatsApp account as a companion device and lets an
 operator search contacts, block and unblock them, check lists of numbers
 and manage groups. "roster --sandbox" (or the "Roster (sandbox)" launcher)
 runs it against a simulated server and phone, with nothing real touched.
CONTROL

dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "package: $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --field "$deb" Package Version Architecture Depends
