"""Checks an AWS Signature Version 4 as AWS does, from the request as it arrived (python3 stdlib
only): used by es_server.py to stand in for Amazon OpenSearch Service and by s3_server.py for S3,
whose flavour differs (s3=True): the path is encoded once, not twice, and X-Amz-Content-Sha256 is
required and signed, holding the body's hash or UNSIGNED-PAYLOAD."""
import hashlib
import hmac
import re
import urllib.parse

AUTH = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                  r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")


def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _canonical_query(query):
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        k, _, v = item.partition("=")
        pairs.append((urllib.parse.quote(urllib.parse.unquote(k), safe="-_.~"),
                      urllib.parse.quote(urllib.parse.unquote(v), safe="-_.~")))
    return "&".join("%s=%s" % kv for kv in sorted(pairs))


def verify(method, raw_path, headers, body, keys, region, service, s3=False):
    """`keys`: {access_key_id: (secret, session_token or None)}. Returns (None, key id) when the
    signature holds, else (reason, key id or None)."""
    m = AUTH.match(headers.get("Authorization", ""))
    if not m:
        return "missing or malformed SigV4 Authorization header", None
    key_id, date, reg, svc, signed, signature = m.groups()
    if key_id not in keys:
        return "The security token included in the request is invalid.", key_id
    secret, token = keys[key_id]
    if (reg, svc) != (region, service):
        return "credential scope %s/%s, expected %s/%s" % (reg, svc, region, service), key_id
    amz_date = headers.get("X-Amz-Date", "")
    if not amz_date.startswith(date):
        return "X-Amz-Date does not match the credential scope", key_id
    if token is not None and headers.get("X-Amz-Security-Token") != token:
        return "missing or wrong X-Amz-Security-Token for temporary credentials", key_id
    names = signed.split(";")
    if "host" not in names or "x-amz-date" not in names:
        return "host and x-amz-date must be signed", key_id
    if token is not None and "x-amz-security-token" not in names:
        return "x-amz-security-token must be signed", key_id
    payload_hash = hashlib.sha256(body).hexdigest()
    if s3:
        if "x-amz-content-sha256" not in names:
            return "x-amz-content-sha256 must be signed", key_id
        if headers.get("X-Amz-Content-Sha256") == "UNSIGNED-PAYLOAD":
            payload_hash = "UNSIGNED-PAYLOAD"
    if headers.get("X-Amz-Content-Sha256", payload_hash) != payload_hash:
        return "The provided 'x-amz-content-sha256' header does not match what was computed.", key_id
    path, _, query = raw_path.partition("?")
    # S3 signs the path as sent (each byte encoded once); other services encode it again.
    canonical_path = urllib.parse.quote(urllib.parse.unquote(path) if s3 else path, safe="/-_.~") or "/"
    canonical_headers = ""
    for name in names:
        value = headers.get(name)
        if value is None:
            return "signed header %s is missing" % name, key_id
        canonical_headers += "%s:%s\n" % (name, " ".join(value.split()))
    canonical = "\n".join([method, canonical_path, _canonical_query(query),
                           canonical_headers, signed, payload_hash])
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _sign(_sign(_sign(_sign(("AWS4" + secret).encode(), date), region), service), "aws4_request")
    expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "The request signature we calculated does not match the signature you provided.", key_id
    return None, key_id
