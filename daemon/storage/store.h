// store.h: the whole of storage, for the composition root and the tests: Store is every role
// (campaigns, recipients and groups, the send ledger, bounces, imports, reports, unsubscribes,
// the suppression list and the daemons sharing the database; each in its
// own header) over one connection, and openStore opens one from a Database= URL. Two backends
// implement it with the same behaviour: SQLite (Poco::Data::SQLite) and PostgreSQL (libpqxx).
// Opening a store applies the versioned schema migrations. Every query is parameterised; no
// value is ever spliced into SQL text. Services take only the roles they use.
//
// Errors: a unique address or name that is taken throws Error(AlreadyExists); a lost or
// failing database throws Error(Failed) with the backend's message. Finders return nullopt
// rather than throwing. A store is used from one thread at a time; several stores (one per
// thread) may share one database: SQLite runs in WAL mode with a busy timeout (readers never
// wait, a writer waits up to the timeout for another's transaction), PostgreSQL as usual.
#pragma once

#include <memory>
#include <string>

#include "storage/bounce_store.h"
#include "storage/campaign_store.h"
#include "storage/cluster_store.h"
#include "storage/import_store.h"
#include "storage/recipient_store.h"
#include "storage/report_store.h"
#include "storage/send_ledger.h"
#include "storage/suppression_store.h"
#include "storage/transactional.h"

namespace campaignd::storage {

// Every role over one connection: a transaction() taken through any of them spans them all.
class Store : public CampaignStore,
              public RecipientStore,
              public SendLedger,
              public BounceStore,
              public ImportStore,
              public ReportStore,
              public SuppressionStore,
              public ClusterStore {
public:
    // "sqlite" or "postgresql"; the location without any password.
    virtual std::string backendName() const = 0;
    virtual std::string location() const = 0;
    virtual int schemaVersion() = 0;
};

// Opens "sqlite:PATH" (the file and its directory are created as needed) or a
// "postgresql://..." / "postgres://..." URL (libpq syntax; a password is better given
// through PGPASSFILE or a credential than in the URL). Applies pending migrations.
// Throws Error(InvalidArgument) for an unknown scheme, Error(Failed) if it cannot connect.
std::unique_ptr<Store> openStore(const std::string& url);

}  // namespace campaignd::storage
