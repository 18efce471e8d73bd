#!/bin/sh
# Fashion-MNIST as CSV in data/fashion-mnist/: installs Debian's
# dataset-fashion-mnist package (idx files; needs root or sudo) and converts it.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
node bin/dlc.js fetch fashion-mnist --dir data/fashion-mnist
