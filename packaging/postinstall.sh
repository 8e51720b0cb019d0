#!/bin/sh
# The daemons run as their own system user; the config and the router's
# password file are root's, readable by that group. The units are not
# enabled, and refuse to start until /etc/failwatch/config.yaml is edited.
set -e
if ! getent group failwatch >/dev/null; then
  groupadd --system failwatch
fi
if ! getent passwd failwatch >/dev/null; then
  useradd --system --gid failwatch --home-dir /var/lib/failwatch --no-create-home \
    --shell /usr/sbin/nologin --comment "failwatch daemons" failwatch
fi
chgrp failwatch /etc/failwatch /etc/failwatch/config.yaml
chmod 0750 /etc/failwatch
chmod 0640 /etc/failwatch/config.yaml
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
echo "failwatch: edit /etc/failwatch/config.yaml (then delete its unedited: line), put the router's password in"
echo "  /etc/failwatch/router.password (sudo install -m 0640 -g failwatch /dev/stdin /etc/failwatch/router.password),"
echo "  check with: sudo failwatch status; then: systemctl enable --now failwatch-exporter (or failwatch-serve)"
