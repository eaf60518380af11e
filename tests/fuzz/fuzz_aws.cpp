// libFuzzer target: what comes back from AWS credential endpoints (the container/IMDS JSON and
// STS's XML), S3's error documents, CloudWatch Logs' JSON answers (errors, PutLogEvents,
// Describe* pages), and SigV4's canonical form of arbitrary URLs and header values (S3's flavour
// too). Checks: accepted credentials have a key id and a secret; an error's code and message stay
// within their bounds; the Authorization header never holds the secret.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "http/aws_credentials.h"
#include "http/aws_sigv4.h"
#include "../../plugins/out_cloudwatch_logs/cwl_events.h"
#include "../../plugins/out_s3/s3_response.h"

namespace aws = sluice::http::aws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  aws::Credentials c;
  std::string error;
  if (aws::parse_credentials_json(input, c, error))
    SLUICE_FUZZ_CHECK(!c.access_key_id.empty() && !c.secret_access_key.empty());
  if (aws::parse_sts_response(input, c, error))
    SLUICE_FUZZ_CHECK(!c.access_key_id.empty() && !c.secret_access_key.empty());

  sluice::http::HttpResponse refused;
  refused.status = 403;
  refused.body = std::string(input);
  SLUICE_FUZZ_CHECK(sluice::s3::error_code(refused).size() <= input.size());
  SLUICE_FUZZ_CHECK(sluice::s3::xml_text(input, "Message", 256).size() <= 256);
  (void)sluice::s3::describe(refused);

  const std::string header(input.substr(0, 200));
  const sluice::cwl::ApiError api = sluice::cwl::parse_error(input, &header);
  SLUICE_FUZZ_CHECK(api.type.size() <= 128 && api.message.size() <= 4 * 300 + 40 && api.expected_sequence_token.size() <= 512);
  SLUICE_FUZZ_CHECK(api.message.find("The Canonical String") == std::string::npos);
  sluice::cwl::PutResult put;
  if (sluice::cwl::parse_put_response(input, put))
    SLUICE_FUZZ_CHECK(put.next_sequence_token.size() <= 512 && put.rejected.size() <= 1024);
  sluice::cwl::DescribePage page;
  if (sluice::cwl::parse_describe(input, "logStreams", "logStreamName", "s", page))
    SLUICE_FUZZ_CHECK(page.next_token.size() <= 4096 && page.upload_sequence_token.size() <= 512);

  // The first line is a URL, the second a header value; the rest is the body.
  size_t nl = input.find('\n');
  std::string_view url = input.substr(0, nl);
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  size_t nl2 = rest.find('\n');
  sluice::http::HttpRequest req;
  req.method = "POST";
  req.url = std::string(url);
  req.headers.emplace_back("Content-Type", std::string(rest.substr(0, nl2)));
  const aws::Credentials secret{"AKIDFUZZ", "fuzz-secret-never-sent", "token", 0};
  for (bool s3 : {false, true}) {
    sluice::http::HttpRequest signed_req = req;
    aws::SignOptions options{"eu-west-1", s3 ? "s3" : "es", true};
    options.s3 = s3;
    aws::sign(signed_req, rest, secret, options, 1440938160);
    const std::string* authorization = sluice::http::find_header(signed_req.headers, "Authorization");
    SLUICE_FUZZ_CHECK(authorization && authorization->find(secret.secret_access_key) == std::string::npos);
  }
  return 0;
}
