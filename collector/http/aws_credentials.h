// Where an output that talks to AWS gets credentials to sign requests with, in the order the AWS
// SDKs look: keys in the configuration, a web identity (EKS IRSA: AssumeRoleWithWebIdentity at
// STS), AWS_ACCESS_KEY_ID in the environment, the container credentials endpoint (ECS, EKS Pod
// Identity), the instance profile (IMDSv2). Temporary credentials are fetched again before they
// expire; requests wait for them.
#pragma once

#include <uv.h>

#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/aws_sigv4.h"
#include "http/http_client.h"

namespace sluice::http::aws {

struct CredentialsConfig {
  std::string region;  // of the service; STS's too unless sts_region
  std::string access_key_id, secret_access_key;
  std::string assume_role_arn, assume_role_session_name = "fluentd", web_identity_token_file;
  std::string sts_region;
  std::string sts_endpoint_url;  // else AWS_ENDPOINT_URL_STS, else https://sts.<region>.amazonaws.com
  int duration_seconds = 3600;   // of the web identity session
  std::string policy;            // a session policy (JSON) for the web identity session
  std::string container_relative_uri;
  // Only the instance profile (or the container endpoint when AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  // is set), as when a configuration names it; imds_endpoint replaces the default address.
  bool instance_profile_only = false;
  std::string imds_endpoint;
  long imds_timeout_ms = 5000;
  double refresh_interval = 18000;
};

class AwsCredentialsProvider {
 public:
  using Done = std::function<void(const Credentials* credentials, const std::string& error)>;

  // Chooses the source from the configuration and the environment (AWS_* variables).
  AwsCredentialsProvider(uv_loop_t* loop, CredentialsConfig config);
  ~AwsCredentialsProvider();

  // Calls `done` with credentials that stay valid for a few minutes more, or with why there are
  // none. From the cache when it can (then before returning), else once a fetch completes.
  void get(HttpClient& client, Done done);
  // Sends `request` signed with the current credentials (fetched first when due) for `payload`,
  // its exact body bytes (the request's own `body` when it has one; else they stay alive and
  // unchanged until `done` has run). Without credentials `done` gets a transport error ("no AWS
  // credentials: ..."), so callers retry it as any other. Nothing is sent once `client` is closed.
  void send_signed(HttpClient& client, HttpRequest request, std::string_view payload, SignOptions options,
                   ResponseCallback done);
  const std::string& source() const { return source_; }  // for logs; holds no secret

 private:
  enum class Kind { Static, WebIdentity, Container, InstanceProfile };
  bool fresh(time_t now) const;
  void fetch(HttpClient& client);
  void fetch_web_identity(HttpClient& client);
  void fetch_container(HttpClient& client);
  void fetch_instance_profile(HttpClient& client);
  using Parse = bool (*)(std::string_view body, Credentials& out, std::string& error);
  // Sends `request` and finishes with what `parse` reads from its answer; `what` names it in errors.
  void request_credentials(HttpClient& client, HttpRequest request, std::string what, Parse parse);
  void finish(Credentials credentials, std::string error);
  void finish_later(std::string error);

  uv_loop_t* loop_;
  CredentialsConfig config_;
  Kind kind_ = Kind::Static;
  std::string source_;
  std::string url_;         // STS, container or IMDS endpoint
  std::string token_file_;  // web identity token, or the container authorization token
  std::string token_;       // container authorization token given inline
  std::string role_arn_;
  Credentials current_;
  bool have_ = false;
  time_t fetched_at_ = 0;
  std::vector<Done> waiting_;
  uv_timer_t* later_ = nullptr;
  std::string later_error_;
  std::shared_ptr<bool> alive_;
};

// The fields of a credentials document, JSON (container endpoint, IMDS) or STS's XML answer.
bool parse_credentials_json(std::string_view body, Credentials& out, std::string& error);
bool parse_sts_response(std::string_view body, Credentials& out, std::string& error);

}  // namespace sluice::http::aws
