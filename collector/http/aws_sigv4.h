// AWS Signature Version 4 for HTTP requests (Amazon OpenSearch Service, S3, STS): the headers
// that let AWS check who sent a request and that nothing in it changed on the way.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "http/http_client.h"

namespace sluice::http::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // secret: never logged
  std::string session_token;      // temporary credentials only; secret
  time_t expires_at = 0;          // 0: do not expire
};

struct SignOptions {
  std::string_view region;   // e.g. eu-west-1
  std::string_view service;  // "es" (OpenSearch Service), "aoss" (Serverless), "sts"
  // X-Amz-Content-Sha256 is sent and signed, as the AWS SDKs do (OpenSearch Serverless needs it).
  bool content_sha256_header = true;
  // S3's flavour: the path is signed as it is sent (percent-encoded once, where other services
  // encode it a second time), and X-Amz-Content-Sha256 is always sent.
  bool s3 = false;
  // When not empty, what X-Amz-Content-Sha256 says instead of the hash of `payload`: a hash
  // computed earlier, or "UNSIGNED-PAYLOAD" (S3 only).
  std::string_view payload_hash;
};

// Adds Host, X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (temporary credentials) and
// Authorization to `request` for `payload`, the exact body bytes it will carry, at `now`. Signs
// Host, Content-Type, Content-MD5 and Range when the request has them, and the X-Amz-* headers;
// other headers may change on the way (libcurl adds some) without breaking the signature.
void sign(HttpRequest& request, std::string_view payload, const Credentials& credentials,
          const SignOptions& options, time_t now);

// RFC 3986 percent-encoding with upper-case digits, as AWS wants it in paths (`keep_slash`),
// query strings and form bodies.
std::string uri_encode(std::string_view s, bool keep_slash);

// The pieces, for tests against AWS's published examples.
std::string hex_sha256(std::string_view data);
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);  // raw 32 bytes
std::string canonical_request(const HttpRequest& request, std::string_view payload_hash,
                              std::string& signed_headers, bool s3 = false);

}  // namespace sluice::http::aws
