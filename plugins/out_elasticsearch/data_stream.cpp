#include "data_stream.h"

#include <memory>

#include "core/log.h"
#include "format/json.h"
#include "format/tag_placeholders.h"
#include "http/aws_sigv4.h"

namespace sluice::es {

namespace {

// One setup in progress: the steps in order, each a request whose answer picks the next.
struct Setup : std::enable_shared_from_this<Setup> {
  const DataStreamSettings& settings;
  bool opensearch;
  DataStreamNames names;
  ClusterRequest request;
  std::function<void(std::string)> done;
  bool template_exists = false;

  Setup(const DataStreamSettings& s, bool os, DataStreamNames n, ClusterRequest r, std::function<void(std::string)> d)
      : settings(s), opensearch(os), names(std::move(n)), request(std::move(r)), done(std::move(d)) {}

  static std::string path(std::string_view api, const std::string& name) {
    return std::string(api) + http::aws::uri_encode(name, false);
  }
  void fail(const char* method, const std::string& p, const http::HttpResponse& r) {
    done(std::string(method) + " " + p + ": " +
         (r.error.empty() ? "HTTP " + std::to_string(r.status) + " " + log::quote_excerpt(r.body, 300) : r.error));
  }
  // A GET that tells whether something exists: 200 yes, 404 no, anything else fails the setup.
  void exists(const std::string& p, std::function<void(bool)> then) {
    auto self = shared_from_this();
    request("GET", p, {}, [self, p, then = std::move(then)](const http::HttpResponse& r) {
      if (r.error.empty() && (r.ok() || r.status == 404)) then(r.ok());
      else self->fail("GET", p, r);
    });
  }
  void put(const std::string& p, std::string body, std::function<void()> then) {
    auto self = shared_from_this();
    request("PUT", p, std::move(body), [self, p, then = std::move(then)](const http::HttpResponse& r) {
      // Another collector may have created it in between.
      if (r.ok() || (r.status == 400 && r.body.find("resource_already_exists_exception") != std::string::npos))
        then();
      else
        self->fail("PUT", p, r);
    });
  }

  void start() {
    auto self = shared_from_this();
    exists(path("/_data_stream/", names.stream), [self](bool stream_exists) {
      if (stream_exists) {
        if (self->settings.ilm_policy_overwrite && !self->opensearch) self->put_policy([self] { self->done({}); });
        else self->done({});
        return;
      }
      log::info("Specified data stream does not exist. Will be created: <" + self->names.stream + ">");
      self->exists(path("/_index_template/", self->names.template_name), [self](bool found) {
        self->template_exists = found;
        if (self->opensearch) {
          // The first document creates the stream from the template.
          if (found) self->done({});
          else self->put_template([self] { self->done({}); });
          return;
        }
        self->policy_then_template();
      });
    });
  }

  // create_ilm_policy skips when the template exists (unless overwriting) or the policy does.
  void policy_then_template() {
    auto self = shared_from_this();
    auto after_policy = [self] {
      if (self->template_exists) self->create_stream();
      else self->put_template([self] { self->create_stream(); });
    };
    if (settings.ilm_policy_overwrite) {
      put_policy(after_policy);
    } else if (template_exists) {
      after_policy();
    } else {
      exists(path("/_ilm/policy/", names.ilm_name), [self, after_policy](bool found) {
        if (found) after_policy();
        else self->put_policy(after_policy);
      });
    }
  }

  void put_policy(std::function<void()> then) {
    put(path("/_ilm/policy/", names.ilm_name), settings.ilm_policy, std::move(then));
  }

  void put_template(std::function<void()> then) {
    std::string body = "{\"index_patterns\":[";
    json::append_string(body, names.stream + (settings.index_patterns_wildcard ? "*" : ""));
    body += "],\"data_stream\":{}";
    if (!opensearch) {
      body += ",\"template\":{\"settings\":{\"index.lifecycle.name\":";
      json::append_string(body, names.ilm_name);
      body += "}}";
    }
    body += "}";
    put(path("/_index_template/", names.template_name), std::move(body), std::move(then));
  }

  void create_stream() {
    auto self = shared_from_this();
    put(path("/_data_stream/", names.stream), {}, [self] { self->done({}); });
  }
};

}  // namespace

DataStreamNames data_stream_names(const DataStreamSettings& settings, std::string_view stream,
                                  std::string_view tag) {
  DataStreamNames n;
  n.stream = std::string(stream);
  if (!settings.placeholders) {
    n.template_name = settings.template_name;
    n.ilm_name = settings.ilm_name;
    return n;
  }
  // The defaults are <data_stream_name>_template and _policy: the expanded stream's.
  const std::string default_template = settings.name + "_template", default_policy = settings.name + "_policy";
  n.template_name = settings.template_name == default_template
                        ? n.stream + "_template"
                        : expand_tag_placeholders(settings.template_name, tag);
  if (!settings.ilm_name.empty())
    n.ilm_name = settings.ilm_name == default_policy ? n.stream + "_policy"
                                                     : expand_tag_placeholders(settings.ilm_name, tag);
  return n;
}

void set_up_data_stream(const DataStreamSettings& settings, bool opensearch, DataStreamNames names,
                        ClusterRequest request, std::function<void(std::string)> done) {
  std::make_shared<Setup>(settings, opensearch, std::move(names), std::move(request), std::move(done))->start();
}

}  // namespace sluice::es
