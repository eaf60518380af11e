#include "es_response.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

namespace sluice::es {

std::vector<std::pair<size_t, size_t>> split_items(std::string_view p) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t pos = 0;
  while (pos < p.size()) {
    const void* nl1 = memchr(p.data() + pos, '\n', p.size() - pos);
    if (!nl1) break;
    size_t a = size_t(static_cast<const char*>(nl1) - p.data()) + 1;
    const void* nl2 = a < p.size() ? memchr(p.data() + a, '\n', p.size() - a) : nullptr;
    size_t b = nl2 ? size_t(static_cast<const char*>(nl2) - p.data()) + 1 : p.size();
    out.emplace_back(pos, b);
    pos = b;
  }
  return out;
}

BulkResult read_bulk_response(std::string_view body, std::string_view op, size_t expected,
                              const std::vector<std::string>& unrecoverable) {
  BulkResult r;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc)) {
    r.problem = "the bulk response is not JSON";
    return r;
  }
  bool errors = false;
  if (doc["errors"].get(errors)) {
    r.problem = "the bulk response has no `errors` field";
    return r;
  }
  simdjson::dom::array items;
  if (doc["items"].get(items)) {
    r.problem = "the bulk response has no `items` array";
    return r;
  }
  r.items = items.size();
  if (!errors) {
    // As the plugin: `errors: false` means every item was accepted (items are not counted).
    r.ok = true;
    r.succeeded = expected;
    return r;
  }
  if (r.items != expected) {
    r.problem = "the number of records submitted " + std::to_string(expected) +
                " do not match the number returned " + std::to_string(r.items);
    return r;
  }
  size_t i = 0;
  for (simdjson::dom::element item : items) {
    size_t index = i++;
    simdjson::dom::object obj;
    if (item.get(obj) || obj.size() == 0) {
      ++r.succeeded;  // an empty item: the plugin skips it
      continue;
    }
    simdjson::dom::element body_el = obj.begin().value();
    std::string_view item_op = obj.begin().key();
    simdjson::dom::object inner;
    int64_t status = 0;
    if (body_el.get(inner) || inner["status"].get(status)) {
      ++r.succeeded;  // no status: the plugin counts it as a bad response and moves on
      continue;
    }
    if (status == 200 || status == 201) {
      ++r.succeeded;
      continue;
    }
    bool create = item_op == "create" || op == "create";
    if (create && status == 409) {
      ++r.duplicates;
      continue;
    }
    ItemFailure f;
    f.index = index;
    f.status = int(status);
    simdjson::dom::element err;
    bool has_error = !inner["error"].get(err);
    std::string_view type;
    if (has_error) {
      f.error_json = simdjson::minify(err);
      std::string_view s;
      if (!err.get(s)) {
        type = s;
      } else {
        simdjson::dom::object eo;
        if (!err.get(eo)) {
          std::string_view t;
          if (!eo["type"].get(t)) type = t;
        }
      }
    } else {
      f.error_json = "null";
    }
    f.type.assign(type);
    bool retryable_status = status == 429 || status >= 500;
    bool unrec = type == "json_parse_exception" ||
                 std::find(unrecoverable.begin(), unrecoverable.end(), f.type) != unrecoverable.end();
    if (status == 400 || unrec) f.kind = ItemFailure::Dead;
    else if (retryable_status) f.kind = ItemFailure::Retry;
    else if (!type.empty()) f.kind = ItemFailure::Retry;  // e.g. 403 cluster_block_exception
    else f.kind = ItemFailure::Dead;                        // no error type given
    r.failures.push_back(std::move(f));
  }
  r.ok = true;
  return r;
}

}  // namespace sluice::es
