#include <gtest/gtest.h>

#include "http/aws_credentials.h"

namespace sluice::http::aws {
namespace {

TEST(AwsCredentials, ContainerAndInstanceProfileJson) {
  Credentials c;
  std::string error;
  ASSERT_TRUE(parse_credentials_json(R"({"Code":"Success","AccessKeyId":"ASIAX","SecretAccessKey":"s/k+1",
      "Token":"tok","Expiration":"2024-05-01T12:00:00Z"})", c, error));
  EXPECT_EQ(c.access_key_id, "ASIAX");
  EXPECT_EQ(c.secret_access_key, "s/k+1");
  EXPECT_EQ(c.session_token, "tok");
  EXPECT_EQ(c.expires_at, 1714564800);
  EXPECT_FALSE(parse_credentials_json(R"({"Code":"Failure","Message":"no role"})", c, error));
  EXPECT_EQ(error, "the credentials document has no AccessKeyId and SecretAccessKey");
  EXPECT_FALSE(parse_credentials_json("<html>proxy error</html>", c, error));
}

TEST(AwsCredentials, StsAssumeRoleWithWebIdentityXml) {
  Credentials c;
  std::string error;
  ASSERT_TRUE(parse_sts_response(R"(<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>
      <AssumedRoleUser><AccessKeyId>not-this-one</AccessKeyId></AssumedRoleUser>
      <Credentials><SessionToken>FwoG</SessionToken><SecretAccessKey>sec</SecretAccessKey>
      <Expiration>2024-05-01T13:00:00Z</Expiration><AccessKeyId>ASIAY</AccessKeyId></Credentials>
      </AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>)", c, error));
  EXPECT_EQ(c.access_key_id, "ASIAY");
  EXPECT_EQ(c.session_token, "FwoG");
  EXPECT_EQ(c.expires_at, 1714568400);
  EXPECT_FALSE(parse_sts_response("<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>", c,
                                  error));
  EXPECT_EQ(error, "the STS answer has no Credentials");
}

}  // namespace
}  // namespace sluice::http::aws
