#include "http/aws_credentials.h"

#include <simdjson.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "core/log.h"
#include "core/uv_handle.h"

namespace sluice::http::aws {

namespace {

constexpr time_t kRefreshAhead = 300;          // fetch again this long before expiry
constexpr size_t kMaxTokenBytes = 64 * 1024;   // web identity / authorization token files
constexpr size_t kMaxResponseBytes = 64 * 1024;

std::string env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

bool read_small_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot read " + path;
    return false;
  }
  out.assign(kMaxTokenBytes + 1, '\0');
  f.read(out.data(), std::streamsize(out.size()));
  out.resize(size_t(f.gcount()));
  if (out.size() > kMaxTokenBytes) {
    error = path + " is larger than " + std::to_string(kMaxTokenBytes) + " bytes";
    return false;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  return true;
}

// "2024-05-01T12:00:00Z" (fractions and offsets are not used by these endpoints; a fraction is
// ignored). 0 when it does not parse.
time_t parse_expiration(std::string_view text) {
  struct tm tm = {};
  int n = 0;
  std::string s(text);
  if (sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
             &tm.tm_min, &tm.tm_sec, &n) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
}

std::string_view xml_element(std::string_view body, std::string_view name) {
  std::string open = "<" + std::string(name) + ">", close = "</" + std::string(name) + ">";
  size_t b = body.find(open);
  if (b == std::string_view::npos) return {};
  b += open.size();
  size_t e = body.find(close, b);
  return e == std::string_view::npos ? std::string_view() : body.substr(b, e - b);
}

std::string describe_failure(const HttpResponse& r, std::string_view what) {
  if (!r.error.empty()) return std::string(what) + ": " + r.error;
  std::string out = std::string(what) + ": HTTP " + std::to_string(r.status);
  std::string_view code = xml_element(r.body, "Code"), message = xml_element(r.body, "Message");
  if (!code.empty()) out += " " + std::string(code);
  if (!message.empty()) out += ": " + log::quote_excerpt(std::string(message), 300);
  return out;
}

}  // namespace

bool parse_credentials_json(std::string_view body, Credentials& out, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::object doc;
  std::string_view key, secret, token, expiration;
  if (parser.parse(padded).get(doc) || doc["AccessKeyId"].get(key) || doc["SecretAccessKey"].get(secret) ||
      key.empty() || secret.empty()) {
    error = "the credentials document has no AccessKeyId and SecretAccessKey";
    return false;
  }
  if (doc["Token"].get(token)) token = {};
  if (doc["Expiration"].get(expiration)) expiration = {};
  out = {std::string(key), std::string(secret), std::string(token), parse_expiration(expiration)};
  return true;
}

bool parse_sts_response(std::string_view body, Credentials& out, std::string& error) {
  std::string_view creds = xml_element(body, "Credentials");
  std::string_view key = xml_element(creds, "AccessKeyId"), secret = xml_element(creds, "SecretAccessKey");
  if (key.empty() || secret.empty()) {
    error = "the STS answer has no Credentials";
    return false;
  }
  out = {std::string(key), std::string(secret), std::string(xml_element(creds, "SessionToken")),
         parse_expiration(xml_element(creds, "Expiration"))};
  return true;
}

AwsCredentialsProvider::AwsCredentialsProvider(uv_loop_t* loop, CredentialsConfig config)
    : loop_(loop), config_(std::move(config)), alive_(std::make_shared<bool>(true)) {
  const CredentialsConfig& e = config_;
  std::string role = e.assume_role_arn, token_file = e.web_identity_token_file;
  if (e.access_key_id.empty() && role.empty() && env("AWS_ACCESS_KEY_ID").empty() && !e.instance_profile_only) {
    role = env("AWS_ROLE_ARN");
    token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  }
  const std::string region = e.sts_region.empty() ? e.region : e.sts_region;
  std::string rel = e.container_relative_uri.empty() ? env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
                                                     : e.container_relative_uri;
  if (e.instance_profile_only) {
    // As the Ruby SDK's ECSCredentials / InstanceProfileCredentials, chosen by the configuration.
  } else if (!e.access_key_id.empty() && !e.secret_access_key.empty()) {
    kind_ = Kind::Static;
    current_ = {e.access_key_id, e.secret_access_key, "", 0};
    have_ = true;
    source_ = "the access key of the configuration";
    return;
  } else if (!role.empty() && !token_file.empty()) {
    kind_ = Kind::WebIdentity;
    role_arn_ = role;
    token_file_ = token_file;
    url_ = e.sts_endpoint_url.empty() ? env("AWS_ENDPOINT_URL_STS") : e.sts_endpoint_url;
    if (url_.empty()) url_ = "https://sts." + region + ".amazonaws.com";
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    source_ = "web identity (role " + role + ")";
    return;
  } else if (!env("AWS_ACCESS_KEY_ID").empty() && !env("AWS_SECRET_ACCESS_KEY").empty()) {
    kind_ = Kind::Static;
    current_ = {env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN"), 0};
    have_ = true;
    source_ = "AWS_ACCESS_KEY_ID of the environment";
    return;
  }
  if (!rel.empty() || (!e.instance_profile_only && !env("AWS_CONTAINER_CREDENTIALS_FULL_URI").empty())) {
    kind_ = Kind::Container;
    url_ = rel.empty() ? env("AWS_CONTAINER_CREDENTIALS_FULL_URI") : "http://169.254.170.2" + rel;
    token_file_ = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    token_ = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    source_ = "the container credentials endpoint " + url_;
  } else {
    kind_ = Kind::InstanceProfile;
    url_ = e.imds_endpoint.empty() ? env("AWS_EC2_METADATA_SERVICE_ENDPOINT") : e.imds_endpoint;
    if (url_.empty()) url_ = "http://169.254.169.254";
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    source_ = "the instance profile (" + url_ + ")";
  }
}

AwsCredentialsProvider::~AwsCredentialsProvider() {
  *alive_ = false;
  close_uv_handle(later_);
}

bool AwsCredentialsProvider::fresh(time_t now) const {
  if (!have_) return false;
  if (kind_ == Kind::Static) return true;
  if (current_.expires_at != 0 && now + kRefreshAhead >= current_.expires_at) return false;
  return double(now - fetched_at_) < config_.refresh_interval;
}

void AwsCredentialsProvider::get(HttpClient& client, Done done) {
  if (fresh(time(nullptr))) {
    done(&current_, "");
    return;
  }
  waiting_.push_back(std::move(done));
  if (waiting_.size() == 1) fetch(client);
}

void AwsCredentialsProvider::send_signed(HttpClient& client, HttpRequest request, std::string_view payload,
                                         SignOptions options, ResponseCallback done) {
  auto pending = std::make_shared<HttpRequest>(std::move(request));
  if (!pending->body.empty()) payload = pending->body;
  // The options' views outlive this call: the hash is kept with the request.
  auto hash = std::make_shared<std::string>(options.payload_hash);
  HttpClient* c = &client;
  get(client, [c, pending, payload, options, hash, done = std::move(done)](const Credentials* credentials,
                                                                          const std::string& error) mutable {
    if (c->closed()) return;
    if (!credentials) {
      HttpResponse r;
      r.error = "no AWS credentials: " + error;
      done(std::move(r));
      return;
    }
    options.payload_hash = *hash;
    sign(*pending, payload, *credentials, options, time(nullptr));
    c->send(std::move(*pending), std::move(done));
  });
}

void AwsCredentialsProvider::fetch(HttpClient& client) {
  switch (kind_) {
    case Kind::WebIdentity: return fetch_web_identity(client);
    case Kind::Container: return fetch_container(client);
    case Kind::InstanceProfile: return fetch_instance_profile(client);
    case Kind::Static: return finish(current_, "");
  }
}

void AwsCredentialsProvider::fetch_web_identity(HttpClient& client) {
  std::string token, error;
  if (!read_small_file(token_file_, token, error)) return finish_later("web identity token: " + error);
  HttpRequest req;
  req.method = "POST";
  req.url = url_ + "/";
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  req.body = "Action=AssumeRoleWithWebIdentity&DurationSeconds=" + std::to_string(config_.duration_seconds);
  if (!config_.policy.empty()) req.body += "&Policy=" + uri_encode(config_.policy, false);
  req.body += "&RoleArn=" + uri_encode(role_arn_, false) + "&RoleSessionName=" +
              uri_encode(config_.assume_role_session_name, false) +
              "&Version=2011-06-15&WebIdentityToken=" + uri_encode(token, false);
  req.max_response_bytes = kMaxResponseBytes;
  request_credentials(client, std::move(req), "STS AssumeRoleWithWebIdentity at " + url_, parse_sts_response);
}

void AwsCredentialsProvider::fetch_container(HttpClient& client) {
  HttpRequest req;
  req.url = url_;
  req.max_response_bytes = kMaxResponseBytes;
  std::string token = token_, error;
  if (!token_file_.empty() && !read_small_file(token_file_, token, error))
    return finish_later("container authorization token: " + error);
  if (!token.empty()) req.headers.emplace_back("Authorization", token);
  request_credentials(client, std::move(req), "container credentials at " + url_, parse_credentials_json);
}

// IMDSv2: a session token (PUT), the role's name, then its credentials.
void AwsCredentialsProvider::fetch_instance_profile(HttpClient& client) {
  HttpRequest req;
  req.method = "PUT";
  req.url = url_ + "/latest/api/token";
  req.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  req.max_response_bytes = kMaxResponseBytes;
  req.timeout_ms = config_.imds_timeout_ms;
  std::weak_ptr<bool> alive = alive_;
  HttpClient* c = &client;
  client.send(std::move(req), [this, alive, c](HttpResponse r) {
    if (!alive.lock()) return;
    if (!r.ok()) return finish({}, describe_failure(r, "instance metadata token at " + url_));
    const std::string session = r.body;
    HttpRequest role;
    role.url = url_ + "/latest/meta-data/iam/security-credentials/";
    role.headers.emplace_back("X-aws-ec2-metadata-token", session);
    role.max_response_bytes = kMaxResponseBytes;
    role.timeout_ms = config_.imds_timeout_ms;
    c->send(std::move(role), [this, alive, c, session](HttpResponse r) {
      if (!alive.lock()) return;
      std::string name = r.body.substr(0, r.body.find('\n'));
      if (!r.ok() || name.empty()) return finish({}, describe_failure(r, "instance profile role at " + url_));
      HttpRequest creds;
      creds.url = url_ + "/latest/meta-data/iam/security-credentials/" + uri_encode(name, false);
      creds.headers.emplace_back("X-aws-ec2-metadata-token", session);
      creds.max_response_bytes = kMaxResponseBytes;
      creds.timeout_ms = config_.imds_timeout_ms;
      request_credentials(*c, std::move(creds), "instance profile credentials at " + url_, parse_credentials_json);
    });
  });
}

void AwsCredentialsProvider::request_credentials(HttpClient& client, HttpRequest request,
                                                 std::string what, Parse parse) {
  std::weak_ptr<bool> alive = alive_;
  client.send(std::move(request), [this, alive, what = std::move(what), parse](HttpResponse r) {
    if (!alive.lock()) return;
    Credentials got;
    std::string error;
    if (!r.ok()) return finish({}, describe_failure(r, what));
    if (!parse(r.body, got, error)) return finish({}, error);
    finish(std::move(got), "");
  });
}

void AwsCredentialsProvider::finish(Credentials credentials, std::string error) {
  const time_t now = time(nullptr);
  if (error.empty()) {
    current_ = std::move(credentials);
    have_ = true;
    fetched_at_ = now;
  } else if (have_ && (current_.expires_at == 0 || now < current_.expires_at)) {
    // Refreshing early failed: the credentials held are still good for a while.
    log::warn_once("aws.refresh." + source_, "AWS credentials from " + source_ + " could not be refreshed (" +
                                                 error + "); using the current ones until they expire");
    error.clear();
  }
  std::vector<Done> waiting;
  waiting.swap(waiting_);
  for (Done& d : waiting) d(error.empty() ? &current_ : nullptr, error);
}

// A failure found before any request: told on the next loop turn, as a fetch's would be, so
// callers never see their callback run inside get().
void AwsCredentialsProvider::finish_later(std::string error) {
  if (!later_) {
    later_ = new uv_timer_t;
    uv_timer_init(loop_, later_);
    later_->data = this;
  }
  later_error_ = std::move(error);
  uv_timer_start(
      later_,
      [](uv_timer_t* t) {
        auto* self = static_cast<AwsCredentialsProvider*>(t->data);
        self->finish({}, std::move(self->later_error_));
      },
      0, 0);
}

}  // namespace sluice::http::aws
