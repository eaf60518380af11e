// What the data stream outputs do before the first bulk request to a stream, as
// out_elasticsearch_data_stream.rb and out_opensearch_data_stream.rb do it: on Elasticsearch the
// ILM policy, the index template and the data stream, each only when missing; on OpenSearch the
// index template.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "es_config.h"
#include "http/http_client.h"

namespace sluice::es {

struct DataStreamNames {
  std::string stream, template_name, ilm_name;
};

// A chunk's stream (its index) with the template and policy names of that stream: the
// configured ones with ${tag} placeholders expanded, or <stream>_template and <stream>_policy.
DataStreamNames data_stream_names(const DataStreamSettings& settings, std::string_view stream,
                                  std::string_view tag);

// Sends one request (`body` JSON, or none) to the cluster and calls back with its response.
using ClusterRequest = std::function<void(const char* method, const std::string& path, std::string body,
                                          std::function<void(const http::HttpResponse&)> done)>;

// Checks and creates what `names` need; `done` gets "" once the stream takes documents, else
// what failed (the request and the server's answer).
void set_up_data_stream(const DataStreamSettings& settings, bool opensearch, DataStreamNames names,
                        ClusterRequest request, std::function<void(std::string problem)> done);

}  // namespace sluice::es
