#!/usr/bin/env bash
# The replay tests run against a real redis-server (test/helpers/redis.ts starts one on a free
# port and stops it after). Install Debian's package when the machine has none; needs root.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-redis.sh: no redis-server and no apt-get; install Redis by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >&2
# Debian's package may start a system service on 6379; the tests use their own server.
redis-server --version
