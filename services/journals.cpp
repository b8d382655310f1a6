#include "services/journals.hpp"

#include "services/book_history.hpp"
#include "services/book_snapshot.hpp"
#include "services/journal_record.hpp"
#include "storage/journal_reader.hpp"

namespace services {

Journals::Journals(storage::Store s, storage::WriterOptions options, SnapshotPolicy p)
    : store(std::move(s)),
      writer(store, std::move(options)),
      snapshots(std::move(p)),
      history(std::make_unique<BookHistory>()) {}

Journals::~Journals() = default;

storage::Status Journals::remove(std::string_view symbol) {
  storage::Status s = await_done([&](auto done) { return writer.remove(symbol, done); });
  if (s) damage.forget(symbol);
  return s;
}

rt::Result<std::optional<SymbolSpec>, std::string> journaled_spec(const storage::Store& store,
                                                                  std::string_view symbol) {
  // The newest snapshot has it (retention may have taken the first record)...
  auto lookup = store.latest_snapshot(symbol);
  if (!lookup) return rt::Err{lookup.error().to_string()};
  if (lookup->snapshot) {
    if (auto snapshot = decode_book_snapshot(lookup->snapshot->bytes)) {
      return std::optional<SymbolSpec>(snapshot->spec);
    }
  }
  // ...else the journal begins with it.
  auto reader = storage::JournalReader::open(store, symbol, 0);
  if (!reader) return rt::Err{reader.error().to_string()};
  std::optional<storage::RecordView> first = reader->next();
  if (!first) {
    if (reader->end().kind == storage::ReadEnd::Kind::io_error) {
      return rt::Err{reader->end().error->to_string()};
    }
    return std::optional<SymbolSpec>();  // nothing durable yet
  }
  auto record = journal::decode(first->payload);
  if (!record) return rt::Err{"its first record: " + record.error()};
  const auto* spec = std::get_if<journal::SpecRecord>(&*record);
  if (spec == nullptr) return rt::Err{std::string("it does not begin with the symbol's spec")};
  return std::optional<SymbolSpec>(spec->spec);
}

}  // namespace services
