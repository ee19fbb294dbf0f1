#!/usr/bin/env bash
# The Debian packages the test suites need, in one place. Checks which are missing; installs them
# when it can (root, with apt-get), or else stops with the command to run and exit 1, so that no
# suite starts on a machine where it would fail halfway (`nft -f - exited 1: exec of "nft" failed`).
# `npm test` runs it first, .ci/run too. FLOTILLA_INSTALL_PACKAGES=no: check only, never install
# (for a machine whose packages are not the tests' to change, even as root).
set -euo pipefail

packages=(
  zip            # deploy.test.ts: deploys a zip made by Info-ZIP
  unzip          # pack-domain's and unpack-domain's tests, packages/test-support/src/backup.ts: Info-ZIP checks the archives
  iproute2       # multi-host tests (tests/e2e, heartbeat): `ip netns` hosts joined by a bridge
  nftables       # multi-host tests: packet loss, partitions and dropped multicast as nftables rules
  curl           # tests/e2e/multi-host.test.ts: requests from inside those hosts
  chromium       # console-browser.test.ts: the web console in a real browser (playwright-core brings none)
  prometheus     # tests/metrics.test.ts: /usr/bin/promtool lints /metrics (`promtool check metrics`)
  age            # encrypted backups (docs/contract.md#backups): the `age` tool reads what pack-domain --recipient writes
  nginx-light    # the proxy against nginx in front of the same application (docs/contract.md#measured)
  logrotate      # logs.test.ts: the stanza docs/operations.md shows, run against a real server's files
  openssh-server # tests/e2e/remote-commands.test.ts: sshd in a namespace host, start-server through `exec: "ssh ... {host}"`
)

if ! command -v dpkg-query >/dev/null; then
  # Not Debian: the names below may differ, and the suites that need a tool say so when it is absent.
  echo "system-packages: no dpkg-query, so not checked; the suites use Debian's ${packages[*]}" >&2
  exit 0
fi

missing() {
  # One dpkg-query for every package keeps the usual case (all present) to a few milliseconds.
  local installed
  installed=$(dpkg-query --show --showformat='${Package} ${db:Status-Abbrev}\n' "${packages[@]}" 2>/dev/null || true)
  for package in "${packages[@]}"; do
    [[ $'\n'"$installed" == *$'\n'"$package ii"* ]] || echo "$package"
  done
}

mapfile -t need < <(missing)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$EUID" -eq 0 ] && [ "${FLOTILLA_INSTALL_PACKAGES:-yes}" != no ] && command -v apt-get >/dev/null; then
  echo "system-packages: installing ${need[*]}" >&2
  # Only now: an update costs seconds, and the lists it brings are needed for packages not yet known.
  apt-get update -qq
  # No recommends: they bring daemons no suite uses (avahi, node-exporter, smartmontools), started
  # wherever services start on install.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${need[@]}" >/dev/null
  mapfile -t need < <(missing)
  [ ${#need[@]} -eq 0 ] && exit 0
  echo "system-packages: apt-get installed, yet ${need[*]} still missing" >&2
  exit 1
fi

if [ "$EUID" -ne 0 ]; then why='not root'; sudo='sudo '
elif [ "${FLOTILLA_INSTALL_PACKAGES:-yes}" = no ]; then why='FLOTILLA_INSTALL_PACKAGES=no'; sudo=''
else why='no apt-get'; sudo=''
fi
echo "system-packages: the test suites need Debian packages that are missing, not installed ($why): ${need[*]}" >&2
echo "Install them, then run the tests again:" >&2
echo "  ${sudo}apt-get install -y ${need[*]}" >&2
exit 1
