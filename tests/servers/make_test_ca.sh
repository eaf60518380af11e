#!/bin/sh
# Makes a throwaway CA and a server certificate for 127.0.0.1/localhost (plus an optional extra
# DNS name) in DIR: ca.crt, ca.key, server.crt, server.key. Used by tests at run time; nothing
# generated here is ever committed.
# Usage: make_test_ca.sh DIR [EXTRA_DNS_NAME]
set -eu
dir=$1
extra=${2:-}
mkdir -p "$dir"
cd "$dir"
san="subjectAltName=IP:127.0.0.1,DNS:localhost"
[ -n "$extra" ] && san="$san,DNS:$extra"
printf '%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$san" > server.ext
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
  -days 2 -subj /CN=sluice-test-ca >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
  -subj /CN=localhost >/dev/null 2>&1
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
  -extfile server.ext >/dev/null 2>&1
rm -f server.csr server.ext ca.srl
