// AWS Signature Version 4 for HTTP requests (Amazon OpenSearch Service, STS): the headers that
// let AWS check who sent a request and that nothing in it changed on the way.
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
};

// Adds Host, X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (temporary credentials) and
// Authorization to `request` for `payload`, the exact body bytes it will carry, at `now`. Signs
// Host, Content-Type when the request has one, and the X-Amz-* headers; other headers may change
// on the way (libcurl adds some) without breaking the signature.
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
                              std::string& signed_headers);

}  // namespace sluice::http::aws
