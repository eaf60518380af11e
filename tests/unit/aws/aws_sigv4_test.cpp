// SigV4 against the examples AWS publishes (the signing-key derivation of "Examples of how to derive
// a signing key", the IAM ListUsers request of "Create a signed AWS API request", the
// get-vanilla case of the SigV4 test suite, and S3's "Example: GET Object" of "Authenticating
// Requests: Using the Authorization Header").
#include "http/aws_sigv4.h"

#include <gtest/gtest.h>

namespace sluice::http::aws {
namespace {

std::string hex(const std::string& raw) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

const Credentials kExample{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
constexpr time_t k20150830T123600Z = 1440938160;

std::string header(const HttpRequest& r, const char* name) {
  const std::string* v = find_header(r.headers, name);
  return v ? *v : "(none)";
}

TEST(AwsSigV4, SigningKeyOfTheDocumentation) {
  EXPECT_EQ(hex(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(AwsSigV4, IamListUsersOfTheDocumentation) {
  HttpRequest r;
  r.url = "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08";
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  sign(r, "", kExample, {"us-east-1", "iam", false}, k20150830T123600Z);
  EXPECT_EQ(header(r, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(header(r, "Host"), "iam.amazonaws.com");
  EXPECT_EQ(header(r, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(AwsSigV4, GetVanillaOfTheTestSuite) {
  HttpRequest r;
  r.url = "https://example.amazonaws.com/";
  sign(r, "", kExample, {"us-east-1", "service", false}, k20150830T123600Z);
  EXPECT_EQ(header(r, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(AwsSigV4, CanonicalFormOfPathQueryAndHeaders) {
  HttpRequest r;
  r.method = "POST";
  r.url = "http://127.0.0.1:9200/my%20index/_bulk?b=2&a=x%2Fy&a=1";
  r.headers.emplace_back("Content-Type", "  application/x-ndjson  ");
  r.headers.emplace_back("Accept", "*/*");  // not signed: libcurl may change it
  r.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  std::string signed_headers;
  EXPECT_EQ(canonical_request(r, "HASH", signed_headers),
            "POST\n/my%2520index/_bulk\na=1&a=x%2Fy&b=2\n"
            "content-type:application/x-ndjson\nhost:127.0.0.1:9200\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\nHASH");
}

TEST(AwsSigV4, TemporaryCredentialsAndPayloadHashAreSigned) {
  HttpRequest r;
  r.method = "POST";
  r.url = "https://search-logs.eu-west-1.es.amazonaws.com:443/_bulk";
  Credentials temporary = kExample;
  temporary.session_token = "FwoGZXIvYXdzEXAMPLETOKEN";
  sign(r, "{\"index\":{}}\n{}\n", temporary, {"eu-west-1", "es", true}, k20150830T123600Z);
  EXPECT_EQ(header(r, "Host"), "search-logs.eu-west-1.es.amazonaws.com");
  EXPECT_EQ(header(r, "X-Amz-Security-Token"), "FwoGZXIvYXdzEXAMPLETOKEN");
  EXPECT_EQ(header(r, "X-Amz-Content-Sha256"), hex_sha256("{\"index\":{}}\n{}\n"));
  const std::string auth = header(r, "Authorization");
  EXPECT_NE(auth.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "),
            std::string::npos)
      << auth;
  EXPECT_EQ(auth.find("wJalr"), std::string::npos);  // the secret itself never travels
}

TEST(AwsSigV4, S3GetObjectOfTheDocumentation) {
  HttpRequest r;
  r.url = "https://examplebucket.s3.amazonaws.com/test.txt";
  r.headers.emplace_back("Range", "bytes=0-9");
  const Credentials s3_example{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", 0};
  SignOptions o{"us-east-1", "s3", false};
  o.s3 = true;
  sign(r, "", s3_example, o, 1369353600);  // 20130524T000000Z
  EXPECT_EQ(header(r, "X-Amz-Content-Sha256"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(header(r, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(AwsSigV4, S3SignsThePathAsSentAndAGivenPayloadHash) {
  HttpRequest r;
  r.method = "PUT";
  r.url = "http://127.0.0.1:9000/logs/app/test%24file%20one.gz";
  std::string signed_headers;
  EXPECT_EQ(canonical_request(r, "UNSIGNED-PAYLOAD", signed_headers, true),
            "PUT\n/logs/app/test%24file%20one.gz\n\nhost:127.0.0.1:9000\n\nhost\nUNSIGNED-PAYLOAD");
  SignOptions o{"eu-west-1", "s3", false};
  o.s3 = true;
  o.payload_hash = "UNSIGNED-PAYLOAD";
  sign(r, "body", kExample, o, k20150830T123600Z);
  EXPECT_EQ(header(r, "X-Amz-Content-Sha256"), "UNSIGNED-PAYLOAD");
}

}  // namespace
}  // namespace sluice::http::aws
