#include "router/router.h"

#include "core/log.h"

namespace sluice {

namespace {
// Tags come from file names; a runaway number of them must not grow the cache without bound.
constexpr size_t kMaxCachedRoutes = 1 << 16;
}  // namespace

Router::Router(std::string label, Metrics& metrics)
    : label_(std::move(label)),
      unmatched_counter_(metrics.counter("sluice_unmatched_records_total{label=\"" +
                                         (label_.empty() ? std::string("ROOT") : label_) + "\"}")) {}

void Router::add_filter(TagPattern pattern, Filter* filter) {
  rules_.push_back(Rule{std::move(pattern), filter, nullptr});
  cache_.clear();
}

void Router::add_match(TagPattern pattern, Output* output) {
  rules_.push_back(Rule{std::move(pattern), nullptr, output});
  cache_.clear();
}

const Router::Route& Router::route_for(std::string_view tag) {
  std::string key(tag);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  if (cache_.size() >= kMaxCachedRoutes) cache_.clear();
  Route route;
  for (auto& rule : rules_) {
    if (!rule.pattern.matches(tag)) continue;
    if (rule.filter) {
      route.filters.push_back(rule.filter);
    } else {
      route.output = rule.output;
      break;
    }
  }
  return cache_.emplace(std::move(key), std::move(route)).first->second;
}

void Router::emit(Batch& batch) {
  if (batch.records.empty()) return;
  const Route& route = route_for(batch.tag);
  if (!route.output) {
    unmatched_ += batch.records.size();
    bump(unmatched_counter_, batch.records.size());
    log::warn_once("unmatched:" + label_ + ":" + std::string(batch.tag),
                   "no patterns matched tag=\"" + std::string(batch.tag) + "\"" +
                       (label_.empty() ? "" : " in label " + label_));
    return;
  }
  run(route, 0, batch);
}

void Router::emit_after(const Filter* filter, Batch& batch) {
  if (batch.records.empty()) return;
  const Route& route = route_for(batch.tag);
  size_t at = 0;
  while (at < route.filters.size() && route.filters[at] != filter) ++at;
  // Not on this tag's route (or no <match>, which emit counts and warns about): all of it.
  if (at == route.filters.size() || !route.output) return emit(batch);
  run(route, at + 1, batch);
}

void Router::run(const Route& route, size_t first_filter, Batch& batch) {
  for (size_t i = first_filter; i < route.filters.size(); ++i) {
    route.filters[i]->filter(batch);
    if (batch.records.empty()) return;
  }
  route.output->write(batch);
}

}  // namespace sluice
