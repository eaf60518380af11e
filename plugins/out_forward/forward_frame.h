// What out_forward puts on the wire and reads back, as Fluentd's out_forward (fluentd-observed.md
// §2.4): the PackedForward frame around a chunk's entries, their compression, the chunk id, and
// the server's ack. Also the order in which servers are tried.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "forward_output.h"

namespace sluice::forward_out {

// `93 <tag> db <be32 len>`: what goes before the entries (always str32, as msgpack-ruby packs a
// chunk).
std::string frame_head(std::string_view tag, size_t entries_size);
// The option map after the entries: size, compressed and, with acks, chunk, in that order.
std::string frame_options(uint64_t size, std::string_view compressed, std::string_view chunk);
// The entries as `compress` says (text: as they are, into nothing); false when zstd or zlib fail.
bool compress_entries(std::string_view entries, const std::string& compress, std::string& out);
// Ruby's Base64.encode64 of 16 random bytes, with its trailing newline, as Fluentd's chunk ids.
std::string chunk_id(uint64_t random_high, uint64_t random_low);
// Whether `response` (one msgpack object) is `{"ack": chunk_id}`; why not in `error`.
bool check_ack(std::string_view response, const std::string& chunk_id, std::string& error);

// Servers in the order to try: available primaries (smooth weighted round robin first, which
// moves their `current`), then available standbys, then the ones believed down (soonest back
// first). A chunk is never refused without trying every server.
std::vector<Server*> order_servers(std::vector<Server>& servers, double now);

}  // namespace sluice::forward_out
