# Sourced by the install scripts: sets $sudo to what runs a command as root
# ("" when already root, "sudo" where it exists), or stops with a message
# naming $what (what the script installs).
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=sudo
  else
    echo "$what: run this script as root to install it" >&2
    exit 1
  fi
fi
