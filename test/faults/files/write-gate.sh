#!/bin/sh
# The fault suite's gate in the data file's write (copy's validate; $1 is the temp file, whole).
# Only where the suite put /var/tmp/fault-hold: say so, then wait for /var/tmp/fault-go (at
# most 2 minutes), so the suite breaks the node while the write is under way.
[ -e /var/tmp/fault-hold ] || exit 0
: > /var/tmp/fault-held
i=0
while [ ! -e /var/tmp/fault-go ]; do
  i=$((i + 1))
  [ "$i" -le 1200 ] || exit 1
  sleep 0.1
done
exit 0
