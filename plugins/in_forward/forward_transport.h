// in_forward's <transport> section: `tcp` (or none), or `tls` with Fluentd's server parameters.
#pragma once

#include <memory>

#include "config/config.h"
#include "core/tls_session.h"

namespace sluice::forward {

// The TLS context of `<transport tls>` in `source`, its files read now; null for plain TCP.
// Mistakes (unknown parameters, unreadable files) are ConfigExceptions with their line.
std::shared_ptr<TlsContext> read_transport(const ConfigSection& source);

}  // namespace sluice::forward
