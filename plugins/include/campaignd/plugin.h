/* plugin.h: campaignd's plugin ABI, major 1. Plain C (C99), depending only on <stdint.h> and
 * <stddef.h>. A plugin is a shared object exporting one function, campaignd_plugin_entry_v1,
 * that returns a constant descriptor; the host checks its ABI major and struct_size before it
 * calls anything else, then calls start() with a table of host functions and stop() at the end.
 * Promises: fields are only ever appended; another major gets another entry symbol and layout;
 * an older minor is accepted by struct_size. Refuses: C++ exceptions or STL objects across the
 * boundary. Every pointer carries an OWNERSHIP note.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions and symbols ------------------------------------------------------------------ */

/* A host refuses a descriptor whose abi_major differs from its own. A change that is not an
 * append (a field moved, removed, retyped; a call's meaning changed) needs a new major, and a
 * new entry symbol name, so an old host does not even find a new plugin's entry point. */
#define CAMPAIGND_PLUGIN_ABI_MAJOR 1
/* Bumped for every append to a struct of this header (the descriptor, the host table, a
 * capability table).
 * 1.0: start/stop, log, config_get.
 * 1.1: CAMPAIGND_ERR_CANCELLED; host normalize_email and check_header_value; the importer
 *      capability table (descriptor field importer).
 * 1.2: CAMPAIGND_ERR_AUTH, _TLS, _CONNECTION; the transport capability table (descriptor field
 *      transport) with its message, result and sink structs.
 * 1.3: descriptor fields bounce_source (the bounce-source capability, with its sink) and
 *      reporter (the reporter capability, with its report and output structs).
 * 1.4: validate, appended to campaignd_transport and campaignd_bounce_source: the host checks
 *      every section's settings at start-up, so a bad key stops the daemon with its FILE:LINE
 *      instead of failing the first session.
 * 1.5: probe, appended to campaignd_transport: campaignd --check-config --connect asks each
 *      transport whether its server answers and takes the credentials, sending nothing.
 * 1.6: submit, appended to campaignd_transport, with campaignd_submit_sink: an asynchronous
 *      transport takes messages and returns at once, and reports from its own event thread,
 *      so the host keeps many sessions busy without a thread for each. */
#define CAMPAIGND_PLUGIN_ABI_MINOR 6

#define CAMPAIGND_PLUGIN_ENTRY_SYMBOL "campaignd_plugin_entry_v1"

/* Plugins are built with -fvisibility=hidden; this marks the one symbol they export. */
#if defined(__GNUC__) || defined(__clang__)
#define CAMPAIGND_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define CAMPAIGND_PLUGIN_EXPORT
#endif

/* The offset just past FIELD in TYPE: a struct whose struct_size is at least this has FIELD.
 * Both sides use it before reading a field appended after 1.0, e.g.
 *   if (host->struct_size >= CAMPAIGND_FIELD_END(campaignd_host, some_later_field)) ... */
#define CAMPAIGND_FIELD_END(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))

/* Marks a field appended to an existing struct from 1.2 on. In C++ it gives the field a default
 * member initializer of zero, so a C++ plugin whose positional initializer was written against
 * an older minor keeps compiling under -Werror=missing-field-initializers (the struct stays
 * standard-layout and trivially copyable; the layout is the same as in C). In C it is empty:
 * C plugins use designated initializers, which that warning does not cover. */
#ifdef __cplusplus
#define CAMPAIGND_APPENDED = {}
#else
#define CAMPAIGND_APPENDED
#endif

/* ---- Status and errors --------------------------------------------------------------------- */

/* Every call across the boundary that can fail returns one of these. Any value other than
 * CAMPAIGND_OK is a failure; a caller treats unknown values as CAMPAIGND_ERR_FAILED. */
typedef int32_t campaignd_status;
#define CAMPAIGND_OK 0
#define CAMPAIGND_ERR_FAILED 1           /* the environment failed (I/O, network, a server) */
#define CAMPAIGND_ERR_INVALID_ARGUMENT 2 /* the caller passed something malformed */
#define CAMPAIGND_ERR_NOT_FOUND 3        /* e.g. config_get: no such key in the section */
#define CAMPAIGND_ERR_UNSUPPORTED 4      /* e.g. a plugin that needs a newer host */
#define CAMPAIGND_ERR_CANCELLED 5        /* (1.1) the caller asked to stop, e.g. an import sink */
/* (1.2) Session-level failures of a transport, so the daemon can act on the cause rather than
 * fail every recipient: */
#define CAMPAIGND_ERR_AUTH 6       /* credentials refused: the campaign pauses with the reason */
#define CAMPAIGND_ERR_TLS 7        /* TLS required but not offered, or the handshake or the
                                      certificate failed: the campaign pauses */
#define CAMPAIGND_ERR_CONNECTION 8 /* connect failed, the connection dropped or timed out: the
                                      daemon reconnects and retries (with backoff) */

/* The message half of a failure. The CALLER provides the buffer; the callee writes a
 * NUL-terminated UTF-8 message of at most message_size bytes (terminator included) into it
 * when it returns a failure, and leaves it alone otherwise. A caller must not trust the callee
 * to terminate it: read at most message_size bytes. err itself may be NULL: then no message. */
typedef struct campaignd_error {
    char *message;       /* OWNERSHIP: caller; valid for the duration of the call only. */
    size_t message_size; /* capacity of message in bytes, terminator included */
} campaignd_error;

/* Writes a bounded, always-terminated copy of text into err (NULL err or text is a no-op).
 * Needs no libc, so a plugin may use it anywhere. */
static inline void campaignd_error_set(campaignd_error *err, const char *text) {
    size_t i = 0;
    if (err == NULL || err->message == NULL || err->message_size == 0 || text == NULL) return;
    for (; i + 1 < err->message_size && text[i] != '\0'; ++i) err->message[i] = text[i];
    err->message[i] = '\0';
}

/* ---- The host's functions, handed to a plugin's start() ------------------------------------ */

/* syslog priorities, as the journal uses them. Other values are clamped to this range. */
typedef int32_t campaignd_log_level;
#define CAMPAIGND_LOG_ERROR 3
#define CAMPAIGND_LOG_WARNING 4
#define CAMPAIGND_LOG_NOTICE 5
#define CAMPAIGND_LOG_INFO 6
#define CAMPAIGND_LOG_DEBUG 7

/* One structured log field, e.g. { "RECIPIENT", "a@example.org" }. Keys become journal field
 * names: the host upper-cases them and replaces characters outside [A-Z0-9_]; it prefixes keys
 * it reserves for itself (PLUGIN, MESSAGE, PRIORITY, ...) with "PLUGIN_". Never log a password. */
typedef struct campaignd_log_field {
    const char *key;   /* OWNERSHIP: caller; read during the call only. */
    const char *value; /* OWNERSHIP: caller; read during the call only. NULL is logged as "". */
} campaignd_log_field;

/* The host table. OWNERSHIP: host; the table, host_ctx and everything they point to stay valid
 * from the moment start() is entered until stop() returns (or until start() returns a failure).
 * log and config_get may be called from any thread in that window; they never call back into
 * the plugin. A plugin built against a newer minor checks struct_size before using a field
 * appended after the ones it finds here (CAMPAIGND_FIELD_END). */
typedef struct campaignd_host {
    size_t struct_size; /* sizeof(campaignd_host) as the host was built */
    uint32_t abi_major; /* the host's CAMPAIGND_PLUGIN_ABI_MAJOR; a plugin refuses another one */
    uint32_t abi_minor; /* the host's CAMPAIGND_PLUGIN_ABI_MINOR */

    /* OWNERSHIP: host; opaque to the plugin, passed back as the first argument of every host
     * function. It identifies the calling plugin (its log lines carry PLUGIN=<name>). */
    void *host_ctx;

    /* Logs message with level and field_count fields (fields may be NULL when field_count is 0).
     * The host bounds and sanitises what it is given (overlong text is cut, control characters
     * are replaced). Returns CAMPAIGND_ERR_INVALID_ARGUMENT for a NULL message or host_ctx. */
    campaignd_status (*log)(void *host_ctx, campaignd_log_level level,
                            const char *message, /* OWNERSHIP: caller; read during the call */
                            const campaignd_log_field *fields, /* OWNERSHIP: caller; ditto */
                            size_t field_count, campaignd_error *err);

    /* Looks key up in the plugin's own section of the daemon config, "[Plugin NAME]" where NAME
     * is the descriptor's name. On CAMPAIGND_OK, *value points to the NUL-terminated value.
     * OWNERSHIP of *value: host; it stays valid and unchanged until the plugin's stop() returns
     * (the plugin never frees it). When the key is absent: CAMPAIGND_ERR_NOT_FOUND, *value is
     * NULL and err says which key. */
    campaignd_status (*config_get)(void *host_ctx,
                                   const char *key, /* OWNERSHIP: caller; read during the call */
                                   const char **value, campaignd_error *err);

    /* ---- Appended in 1.1. A plugin checks struct_size >= CAMPAIGND_HOST_1_1_SIZE first. ---- */

    /* Validates address (address_len bytes, not necessarily NUL-terminated; surrounding white
     * space is ignored) as the daemon validates a recipient's address, by the daemon's own code,
     * and writes the normalised address, NUL-terminated, into out. out_size must be at least
     * CAMPAIGND_EMAIL_BUFFER_SIZE (a normalised address never needs more).
     * Returns CAMPAIGND_OK (out written); CAMPAIGND_ERR_INVALID_ARGUMENT when the address is
     * not valid (err: one sentence for a person, naming the address and what is wrong; out is
     * then an empty string), or when address or out is NULL or out_size is too small;
     * CAMPAIGND_ERR_UNSUPPORTED when this host has no validation to offer (a host without the
     * daemon's services, e.g. a test host); CAMPAIGND_ERR_FAILED if the host failed.
     * Thread-safe: may be called from any thread in the host table's lifetime, concurrently. */
    campaignd_status (*normalize_email)(void *host_ctx,
                                        const char *address, /* OWNERSHIP: caller; read only */
                                        size_t address_len,
                                        char *out, /* OWNERSHIP: caller; written on OK */
                                        size_t out_size, campaignd_error *err);

    /* Checks that value (value_len bytes) may become part of a mail header: valid UTF-8 with
     * no CR, LF, NUL or other control character, exactly as the daemon checks a subject or a
     * display name. field names the value in the message (e.g. "name"); NULL is "value".
     * Returns CAMPAIGND_OK; CAMPAIGND_ERR_INVALID_ARGUMENT with a sentence naming field when the
     * value is refused; CAMPAIGND_ERR_UNSUPPORTED / CAMPAIGND_ERR_FAILED as normalize_email.
     * Thread-safe like normalize_email. */
    campaignd_status (*check_header_value)(void *host_ctx,
                                           const char *field, /* OWNERSHIP: caller; read only */
                                           const char *value, /* OWNERSHIP: caller; read only */
                                           size_t value_len, campaignd_error *err);

    /* Appended in later minors. */
} campaignd_host;

#define CAMPAIGND_HOST_MIN_SIZE CAMPAIGND_FIELD_END(campaignd_host, config_get)
/* A host table at least this large has normalize_email and check_header_value. */
#define CAMPAIGND_HOST_1_1_SIZE CAMPAIGND_FIELD_END(campaignd_host, check_header_value)

/* Room for any normalised address (RFC 5321: at most 254 octets) and its terminator. */
#define CAMPAIGND_EMAIL_BUFFER_SIZE 256

/* ---- The importer capability (1.1) --------------------------------------------------------- */

/* Subscription state of an imported row, as the file says it. */
#define CAMPAIGND_IMPORT_SUBSCRIPTION_UNSPECIFIED 0 /* no column, or the cell is empty */
#define CAMPAIGND_IMPORT_SUBSCRIPTION_SUBSCRIBED 1
#define CAMPAIGND_IMPORT_SUBSCRIPTION_UNSUBSCRIBED 2

/* One valid row, handed to the sink. OWNERSHIP: plugin, the struct and every string and array it
 * points to; valid during the sink's row() call only (the host copies what it keeps). All
 * strings are NUL-terminated UTF-8 that passed the host's checks. */
typedef struct campaignd_import_row {
    size_t struct_size; /* sizeof(campaignd_import_row) as the plugin was built */
    uint64_t line;      /* 1-based line of the input where the row starts (the header is line 1) */
    const char *email;  /* normalised by the host's normalize_email; never NULL */
    const char *name;   /* display name; "" when the file has none; never NULL; header-safe */
    int32_t subscription; /* CAMPAIGND_IMPORT_SUBSCRIPTION_* */
    const char *const *groups; /* group_count names, each non-empty and header-safe; may be
                                  NULL when group_count is 0 */
    size_t group_count;
} campaignd_import_row;

/* Where an import's results go. OWNERSHIP: caller (the host), valid during import() only.
 * The plugin calls these on the thread that called import(), never concurrently, in input
 * order. Any status other than CAMPAIGND_OK from row() or progress() stops the import: the
 * plugin returns that status and its err message as they are, and calls nothing afterwards.
 * A failure of row_error() stops it the same way. */
typedef struct campaignd_import_sink {
    size_t struct_size; /* sizeof(campaignd_import_sink) as the host was built */
    void *sink_ctx;     /* OWNERSHIP: caller; opaque to the plugin, passed back to each call */
    /* A valid row. */
    campaignd_status (*row)(void *sink_ctx, const campaignd_import_row *row, campaignd_error *err);
    /* A row that is skipped: line as in campaignd_import_row, reason one sentence for a person
     * (OWNERSHIP: plugin; NUL-terminated UTF-8; read during the call only). */
    campaignd_status (*row_error)(void *sink_ctx, uint64_t line, const char *reason,
                                  campaignd_error *err);
    /* rows: data rows read so far (valid and skipped); bytes: input bytes taken in so far, up
     * to the end of the last row (at the end: the whole input), for a progress bar.
     * Called now and then (cheaply: about every 65536 rows or several MiB) and once at the end
     * of a successful import with the totals. Returning CAMPAIGND_ERR_CANCELLED (or any other
     * failure) stops the import. */
    campaignd_status (*progress)(void *sink_ctx, uint64_t rows, uint64_t bytes,
                                 campaignd_error *err);
} campaignd_import_sink;

/* How to read the input. OWNERSHIP: caller, valid during import() only. */
typedef struct campaignd_import_options {
    size_t struct_size; /* sizeof(campaignd_import_options) as the host was built */
    char delimiter;     /* the field separator; 0: the plugin detects it */
    /* map_count entries "FIELD=COLUMN" (e.g. "email=Adresse") naming the input's column for one
     * of the importer's fields (email, name, first_name, last_name, subscription_status, groups);
     * they override the plugin's own column detection. OWNERSHIP: caller. NULL if map_count 0. */
    const char *const *map;
    size_t map_count;
    uint64_t max_bytes; /* refuse input longer than this many bytes; 0: no limit */
} campaignd_import_options;

/* The importer's table: descriptor field importer, used when CAMPAIGND_CAP_IMPORTER is set. */
typedef struct campaignd_importer {
    size_t struct_size; /* sizeof(campaignd_importer) as the plugin was built */

    /* Reads the input from fd to its end and reports every row to sink, in order.
     * instance: what start() stored. fd: OWNERSHIP caller; the plugin reads it (from its current
     * position, blocking) and does not close it, seek it or keep it after returning.
     * Returns CAMPAIGND_OK when the whole input was read (row errors included: they went to
     * row_error); CAMPAIGND_ERR_INVALID_ARGUMENT for a structural error that rejects the whole
     * import (err names the line; nothing was reported to the sink after it and the host must
     * discard what it was given); the sink's own failure status when it stopped the import;
     * CAMPAIGND_ERR_FAILED when reading failed. May be called from any thread, and concurrently
     * for different inputs. */
    campaignd_status (*import)(void *instance, int fd, const campaignd_import_options *options,
                               const campaignd_import_sink *sink, campaignd_error *err);
} campaignd_importer;

/* ---- The transport capability (1.2) -------------------------------------------------------- */

/* A transport hands messages to the next hop (an SMTP server, a Maildir). The daemon opens a
 * session per connection it wants (open), sends batches through it (send) and closes it (close).
 * A session is used by one thread at a time; several sessions of one instance may be used
 * concurrently, from different threads (one per connection). The host never calls send again on
 * a session after a send that returned a failure status: it only closes it. */

/* One message to hand over. OWNERSHIP: caller (the host), the struct and every string it points
 * to; valid during send() only (the plugin copies what it keeps). envelope_from, recipient and
 * message_id are NUL-terminated, and contain no CR, LF or other control character (the host
 * refuses such a message before calling the plugin). */
typedef struct campaignd_outgoing_message {
    size_t struct_size;        /* sizeof(campaignd_outgoing_message) as the host was built */
    uint64_t token;            /* the host's id for this message, echoed in its result; unique
                                  within one send() call */
    const char *envelope_from; /* SMTP MAIL FROM, e.g. a VERP address; "" is the null sender <> */
    const char *recipient;     /* SMTP RCPT TO, one address */
    const char *message_id;    /* the Message-ID header's value, for logs; may be "" */
    const char *data;          /* the message, RFC 5322 with CRLF line ends, headers and body,
                                  not dot-stuffed, without the final "." line; data_len bytes,
                                  not NUL-terminated */
    size_t data_len;
} campaignd_outgoing_message;

/* What became of a message. */
#define CAMPAIGND_DELIVERY_SENT 1     /* the next hop took responsibility (SMTP 250 after DATA;
                                         the file is durably in new/) */
#define CAMPAIGND_DELIVERY_DEFERRED 2 /* temporary, retry later: a 4xx, greylisting, a rate
                                         limit; the message was NOT handed over */
#define CAMPAIGND_DELIVERY_FAILED 3   /* permanent for this recipient: a 5xx at MAIL/RCPT or
                                         after DATA; never retried (a hard bounce at RCPT) */
#define CAMPAIGND_DELIVERY_UNKNOWN 4  /* handed over but no verdict: e.g. the connection was lost
                                         after the final "." was sent. Never sent again. */

/* One message's result, handed to the sink. OWNERSHIP: plugin, the struct and its strings; valid
 * during the sink's result() call only (the host copies what it keeps, bounded). */
typedef struct campaignd_delivery_result {
    size_t struct_size;          /* sizeof(campaignd_delivery_result) as the plugin was built */
    uint64_t token;              /* the token of the campaignd_outgoing_message */
    int32_t outcome;             /* CAMPAIGND_DELIVERY_*; the host reads any other value as
                                    CAMPAIGND_DELIVERY_UNKNOWN */
    int32_t smtp_code;           /* the server's reply code (250, 451, 550...); 0 if none */
    const char *enhanced_status; /* RFC 3463 "5.1.1", or ""; NULL is "" */
    const char *text;            /* the server's reply, or what went wrong, for a person (it
                                    becomes the recipient's fail reason); NULL is "" */
} campaignd_delivery_result;

/* Where send() reports results. OWNERSHIP: caller (the host), valid during send() only.
 * result() is called by the plugin at most once per message (per token), on the thread that
 * called send(), during send(), never concurrently, in any order. It cannot fail: the host
 * takes every result (it ignores, and logs, a token it did not give or a second result). */
typedef struct campaignd_delivery_sink {
    size_t struct_size; /* sizeof(campaignd_delivery_sink) as the host was built */
    void *sink_ctx;     /* OWNERSHIP: caller; opaque to the plugin, passed back to result() */
    void (*result)(void *sink_ctx,
                   const campaignd_delivery_result *result /* OWNERSHIP: plugin; see above */);
} campaignd_delivery_sink;

/* Where submit() (1.6) reports. OWNERSHIP: caller (the host), valid until close() of the session
 * has returned. Both calls must be quick and must not call into the plugin; they cannot fail. */
typedef struct campaignd_submit_sink {
    size_t struct_size; /* sizeof(campaignd_submit_sink) as the host was built */
    void *sink_ctx;     /* OWNERSHIP: caller; opaque to the plugin, passed back to both calls */
    /* One message's result, as for campaignd_delivery_sink (OWNERSHIP of result: plugin, valid
     * during the call only). */
    void (*result)(void *sink_ctx, const campaignd_delivery_result *result);
    /* The session ended: status (never CAMPAIGND_OK) and message (NUL-terminated, OWNERSHIP
     * plugin, valid during the call; NULL is ""). See submit(). */
    void (*ended)(void *sink_ctx, campaignd_status status, const char *message);
} campaignd_submit_sink;

/* The transport's table: descriptor field transport, used when CAMPAIGND_CAP_TRANSPORT is set. */
typedef struct campaignd_transport {
    size_t struct_size; /* sizeof(campaignd_transport) as the plugin was built */

    /* Opens a session for the daemon's "[Transport NAME]" section. instance: what start()
     * stored. transport_name: NAME (OWNERSHIP: caller; read during the call), for messages.
     * keys/values: count pairs, the section's keys and their values, NUL-terminated UTF-8,
     * without the daemon's own keys (Plugin=, Connections=, MaxPerSecond=, MaxPerDomain=): every
     * key given is the plugin's, so one it does not know is a misspelling to refuse (OWNERSHIP:
     * caller; read during the call only: copy what you keep; NULL when count is 0). *session: OWNERSHIP plugin; whatever it stores there (NULL is fine) is
     * passed to send() and close() and never dereferenced by the host.
     * Returns CAMPAIGND_OK; CAMPAIGND_ERR_INVALID_ARGUMENT for a missing or bad setting (err
     * names the key); CAMPAIGND_ERR_AUTH, CAMPAIGND_ERR_TLS, CAMPAIGND_ERR_CONNECTION when the
     * plugin connects eagerly and that fails; CAMPAIGND_ERR_FAILED for anything else (err says
     * what, naming the path or host). On a failure close() is not called: the plugin has
     * released everything. May be called from any thread, concurrently. */
    campaignd_status (*open)(void *instance, const char *transport_name,
                             const char *const *keys, const char *const *values, size_t count,
                             void **session, campaignd_error *err);

    /* Hands count messages over, in order (OWNERSHIP of messages, the array and what it points
     * to: caller; valid during the call only). For every message it got to, the plugin calls
     * sink->result() once with that message's token.
     * Returns CAMPAIGND_OK when every message has a result. Returns a session-level failure
     * (CAMPAIGND_ERR_AUTH, _TLS, _CONNECTION, or _FAILED, err saying why) when it had to stop:
     * then every message WITHOUT a result was NOT handed over (not even partly: the host sends
     * it again, through a new session), so a message whose final "." went out before the
     * connection was lost must be reported as CAMPAIGND_DELIVERY_UNKNOWN before returning.
     * A message refused for itself (a 4xx/5xx to its RCPT or its DATA) is a result, not a
     * failure of send(). After a failure the host only calls close() on the session. */
    campaignd_status (*send)(void *session, const campaignd_outgoing_message *const *messages,
                             size_t count, const campaignd_delivery_sink *sink,
                             campaignd_error *err);

    /* Closes the session (QUIT, close files) and frees it. Cannot fail. Called once per session
     * that open() returned, from the thread that used it last. */
    void (*close)(void *session);

    /* ---- Appended in 1.4 (CAMPAIGND_APPENDED). A host reads it only when the table's
     * struct_size reaches it (CAMPAIGND_FIELD_END); a plugin may leave it NULL. ---- */

    /* Checks settings as open() would read them, WITHOUT connecting, creating or writing
     * anything: syntax, required keys, values that contradict each other, and files the settings
     * name that open() would read (a password file: present, not readable by others). A
     * well-formed setting whose target is merely unreachable or unwritable now is valid: that is
     * the environment, and open() reports it when it happens. open() and validate must agree
     * (one parser for both): settings validate accepts, open() refuses as
     * CAMPAIGND_ERR_INVALID_ARGUMENT only if a file they name changed in between.
     * instance: what start() stored. section: the config section the settings come from,
     * e.g. "Transport relay", for messages (OWNERSHIP: caller; read during the call). keys/values:
     * count pairs, as open() gets them (OWNERSHIP: caller; read during the call only; NULL
     * when count is 0). bad_key: OWNERSHIP caller; never NULL; the host sets it to count
     * before the call.
     * Returns CAMPAIGND_OK when the settings are good. CAMPAIGND_ERR_INVALID_ARGUMENT when one is
     * not: err says what is wrong, naming the key, and *bad_key is the index of the offending
     * key (the one to fix when two contradict each other), or count when a required key is
     * missing (the host then points at the section). CAMPAIGND_ERR_FAILED when it could not
     * check (err says why; the host logs it and goes on). err never holds a password. May be
     * called from any thread, at start-up and again later, concurrently with other calls. */
    campaignd_status (*validate)(void *instance, const char *section, const char *const *keys,
                                 const char *const *values, size_t count, size_t *bad_key,
                                 campaignd_error *err) CAMPAIGND_APPENDED;

    /* ---- Appended in 1.5 (CAMPAIGND_APPENDED). A host reads it only when the table's
     * struct_size reaches it; a plugin may leave it NULL. ---- */

    /* Reaches what open() and send() would use, as they would, and leaves it as it was: a
     * server is connected to, greeted, TLS'd and logged into as a session would be, then quit,
     * with no message handed over; a transport with no server checks what it would write to,
     * creating nothing. For campaignd --check-config --connect: "will this transport work now?"
     * Arguments as open() gets them (OWNERSHIP: caller; read during the call only). found:
     * OWNERSHIP caller, may be NULL; on CAMPAIGND_OK the plugin may write one line for a person
     * into it saying what it reached (e.g. "smtp://relay:587, STARTTLS, logged in as news"),
     * with campaignd_error_set, never a password.
     * Returns CAMPAIGND_OK when the transport could send now; otherwise what open() and send()
     * would have returned (CAMPAIGND_ERR_INVALID_ARGUMENT for a bad setting, CAMPAIGND_ERR_AUTH,
     * _TLS, _CONNECTION, _FAILED), err saying why, never holding a password. Blocks for at most
     * the plugin's own connect and reply time-outs. May be called from any thread. */
    campaignd_status (*probe)(void *instance, const char *transport_name, const char *const *keys,
                              const char *const *values, size_t count, campaignd_error *found,
                              campaignd_error *err) CAMPAIGND_APPENDED;

    /* ---- Appended in 1.6 (CAMPAIGND_APPENDED). A host reads it only when the table's
     * struct_size reaches it; a plugin may leave it NULL (the host then uses send()). ---- */

    /* Takes count messages for the session and returns at once, before any of them is written
     * (OWNERSHIP of messages, the array and what it points to: caller; valid during the call
     * only: the plugin copies what it sends). The plugin sends them in order after what was
     * submitted before, as fast as the server allows (pipelined where it can), and reports
     * through sink, from its own thread(s), never from inside submit():
     *   - sink->result() once per message (per token), in any order, as its verdict comes:
     *     the meanings are send()'s (a message whose final "." went out and got no reply is
     *     CAMPAIGND_DELIVERY_UNKNOWN);
     *   - sink->ended() once, when the session can send no more (the connection failed, was
     *     refused, timed out, the credentials or TLS failed): status is the failure as send()
     *     would have returned it, message says why (never a password). Every message submitted
     *     to the session that has had no result() by then was NOT handed over (not even partly);
     *     the host sends it again through a new session. After ended(), nothing more is
     *     reported for the session and submit() on it returns CAMPAIGND_ERR_CONNECTION (or the
     *     failure) taking nothing.
     * Calls to result() and ended() for one session never overlap; those of different sessions
     * may (from different plugin threads). The sink must be the same for every submit() on a
     * session and stays valid until close() has returned (OWNERSHIP: caller).
     * Returns CAMPAIGND_OK when it took every message; a failure status (err saying why) when
     * it took none. The host bounds how many messages it has submitted without a result; the
     * plugin takes any number. A session is submitted to either through send() or through
     * submit(), never both. close() on a session with messages outstanding waits (within the
     * plugin's reply time-outs) for the ones already written to get their result, reports the
     * ones it did not write as not handed over (through ended(), CAMPAIGND_ERR_CANCELLED), and
     * calls neither after it returns. May be called from any thread, one at a time per
     * session. */
    campaignd_status (*submit)(void *session, const campaignd_outgoing_message *const *messages,
                               size_t count, const struct campaignd_submit_sink *sink,
                               campaignd_error *err) CAMPAIGND_APPENDED;
} campaignd_transport;

/* ---- The reporter capability (1.3) --------------------------------------------------------- */

/* A reporter turns a finished campaign's report into a complete e-mail message, which the host
 * then sends through the campaign's transport (to [Daemon] AdminEmail=). The plugin composes;
 * it never sends, and it never reads the database: everything it shows is in the report. */

/* One failure reason and how many recipients failed with it. OWNERSHIP: caller. */
typedef struct campaignd_report_reason {
    const char *reason; /* NUL-terminated UTF-8, as stored (the server's reply, usually) */
    uint64_t count;
} campaignd_report_reason;

/* A finished campaign's report. OWNERSHIP: caller (the host), the struct and everything it
 * points to; valid during compose() only. Strings are NUL-terminated UTF-8. from, to,
 * message_id, campaign_name and campaign_subject contain no CR, LF or other control character
 * (the host checked them); the plugin still encodes them for headers (RFC 2047) and escapes
 * them for HTML. The counts add up: total == sent + failed + unknown + skipped + pending
 * + in_flight. */
typedef struct campaignd_report {
    size_t struct_size; /* sizeof(campaignd_report) as the host was built */
    uint64_t campaign_id;
    const char *campaign_name;
    const char *campaign_subject;
    const char *final_status; /* "completed", "cancelled", ... as on the bus */
    int64_t finished_at;      /* microseconds since the epoch */
    uint64_t total, sent, failed, unknown, skipped, pending, in_flight;
    double success_percent; /* sent / total * 100; 0 when total is 0 */
    const campaignd_report_reason *reasons; /* most frequent first; NULL when reason_count 0 */
    size_t reason_count;
    /* The failures (failed and unknown recipients) as a CSV file made by the host: a header
     * row, CRLF line ends, every cell already neutralised against formula injection. Attach it
     * as it is. failures_csv_len bytes, not NUL-terminated; NULL when 0. */
    const char *failures_csv;
    size_t failures_csv_len;
    uint64_t failures_listed; /* data rows in failures_csv */
    uint64_t failures_total;  /* failed + unknown: more than listed when the host cut the list */
    /* The message's header fields: From (a mailbox: "addr" or "Name <addr>"), To (an address),
     * Message-ID (with angle brackets), Date (microseconds since the epoch). */
    const char *from;
    const char *to;
    const char *message_id;
    int64_t date;
} campaignd_report;

/* Where compose() writes the message. OWNERSHIP: caller; valid during compose() only. write()
 * appends len bytes (OWNERSHIP of data: plugin; read during the call only). A failure status
 * from write() (e.g. the message grew past the host's limit) stops compose(), which returns
 * that status and err as they are. Called on the thread that called compose(). */
typedef struct campaignd_report_output {
    size_t struct_size; /* sizeof(campaignd_report_output) as the host was built */
    void *output_ctx;   /* OWNERSHIP: caller; opaque to the plugin */
    campaignd_status (*write)(void *output_ctx, const char *data, size_t len, campaignd_error *err);
} campaignd_report_output;

/* The reporter's table: descriptor field reporter, used when CAMPAIGND_CAP_REPORTER is set. */
typedef struct campaignd_reporter {
    size_t struct_size; /* sizeof(campaignd_reporter) as the plugin was built */

    /* Writes the complete RFC 5322 message for report to output: headers and body, CRLF line
     * ends, not dot-stuffed, without a final "." line. instance: what start() stored.
     * Returns CAMPAIGND_OK; CAMPAIGND_ERR_INVALID_ARGUMENT for a report it cannot render (err
     * says why); write()'s failure as it is; CAMPAIGND_ERR_FAILED for anything else. May be
     * called from any thread, concurrently. */
    campaignd_status (*compose)(void *instance, const campaignd_report *report,
                                const campaignd_report_output *output, campaignd_error *err);
} campaignd_reporter;

/* ---- The bounce-source capability (1.3) ---------------------------------------------------- */

/* A bounce source reads delivery notices from somewhere (an IMAP mailbox) and hands each one to
 * the host, which parses it, records what it says and commits. Only a message the host has
 * accepted may be marked processed at the source (\Seen, moved): so a crash between the two
 * loses nothing, and the host records a notice seen twice only once. */

/* Where fetch() hands the messages. OWNERSHIP: caller (the host), valid during fetch() only.
 * message() is called on the thread that called fetch(), never concurrently, once per message.
 *   id: the source's name for the message, for logs ("INBOX UID 17"); OWNERSHIP plugin, read
 *       during the call. data/len: the raw RFC 5322 message (OWNERSHIP plugin, read during the
 *       call; not NUL-terminated).
 * Returns CAMPAIGND_OK when the message was processed and what it says is committed (also when
 * it holds no bounce): the plugin then marks it processed. CAMPAIGND_ERR_INVALID_ARGUMENT when
 * it is no mail message the host can read (the host logged and counted it): the plugin marks it
 * processed too, so that one bad message does not come back on every run, and goes on with the
 * next. Any other failure (the database is gone, CAMPAIGND_ERR_CANCELLED): the plugin leaves
 * the message as it was, stops, and fetch() returns that status with err's message. */
typedef struct campaignd_bounce_sink {
    size_t struct_size; /* sizeof(campaignd_bounce_sink) as the host was built */
    void *sink_ctx;     /* OWNERSHIP: caller; opaque to the plugin, passed back to message() */
    campaignd_status (*message)(void *sink_ctx, const char *id, const char *data, size_t len,
                                campaignd_error *err);
} campaignd_bounce_sink;

/* The bounce source's table: descriptor field bounce_source, used when
 * CAMPAIGND_CAP_BOUNCE_SOURCE is set. */
typedef struct campaignd_bounce_source {
    size_t struct_size; /* sizeof(campaignd_bounce_source) as the plugin was built */

    /* One run: connects with the settings (keys/values: count pairs, e.g. the daemon's
     * [Bounces] section: URL=, Username=, PasswordFile=, AfterProcessing=; OWNERSHIP caller,
     * read during the call), hands every unprocessed message to sink->message() in the
     * source's order, marks each accepted one processed, and disconnects. An empty source is
     * CAMPAIGND_OK with no message() call. Returns CAMPAIGND_OK; CAMPAIGND_ERR_INVALID_ARGUMENT
     * for a missing or bad setting (err names the key); CAMPAIGND_ERR_AUTH for credentials
     * refused; CAMPAIGND_ERR_TLS; CAMPAIGND_ERR_CONNECTION when the server cannot be reached or
     * the connection broke (messages handed over before stay processed, the rest untouched);
     * the sink's own failure status when it stopped the run; CAMPAIGND_ERR_FAILED otherwise.
     * err never holds a password. May be called from any thread, not concurrently. */
    campaignd_status (*fetch)(void *instance, const char *const *keys, const char *const *values,
                              size_t count, const campaignd_bounce_sink *sink, campaignd_error *err);

    /* ---- Appended in 1.4 (CAMPAIGND_APPENDED). A host reads it only when the table's
     * struct_size reaches it (CAMPAIGND_FIELD_END); a plugin may leave it NULL. ---- */

    /* Checks settings as fetch() would read them, WITHOUT connecting, creating or writing
     * anything: syntax, required keys, values that contradict each other, and files the settings
     * name that fetch() would read (a password file: present, not readable by others). A
     * well-formed setting whose target is merely unreachable or unwritable now is valid: that is
     * the environment, and fetch() reports it when it happens. fetch() and validate must agree
     * (one parser for both): settings validate accepts, fetch() refuses as
     * CAMPAIGND_ERR_INVALID_ARGUMENT only if a file they name changed in between.
     * instance: what start() stored. section: the config section the settings come from,
     * e.g. "Bounces", for messages (OWNERSHIP: caller; read during the call). keys/values:
     * count pairs, as fetch() gets them (OWNERSHIP: caller; read during the call only; NULL
     * when count is 0). bad_key: OWNERSHIP caller; never NULL; the host sets it to count
     * before the call.
     * Returns CAMPAIGND_OK when the settings are good. CAMPAIGND_ERR_INVALID_ARGUMENT when one is
     * not: err says what is wrong, naming the key, and *bad_key is the index of the offending
     * key (the one to fix when two contradict each other), or count when a required key is
     * missing (the host then points at the section). CAMPAIGND_ERR_FAILED when it could not
     * check (err says why; the host logs it and goes on). err never holds a password. May be
     * called from any thread, at start-up and again later, concurrently with other calls. */
    campaignd_status (*validate)(void *instance, const char *section, const char *const *keys,
                                 const char *const *values, size_t count, size_t *bad_key,
                                 campaignd_error *err) CAMPAIGND_APPENDED;
} campaignd_bounce_source;

/* ---- The plugin's descriptor --------------------------------------------------------------- */

/* What a plugin can do. The capability-specific function tables arrive as appended descriptor
 * fields (importer in 1.1, transport in 1.2); a bit without its table (a descriptor too short
 * to hold it, or a NULL table) means the host does not use that capability. Unknown bits are
 * shown, not used. */
#define CAMPAIGND_CAP_TRANSPORT (UINT64_C(1) << 0)     /* sends messages (SMTP, maildir) */
#define CAMPAIGND_CAP_IMPORTER (UINT64_C(1) << 1)      /* imports recipients (CSV) */
#define CAMPAIGND_CAP_BOUNCE_SOURCE (UINT64_C(1) << 2) /* reads bounces/DSNs (IMAP) */
#define CAMPAIGND_CAP_REPORTER (UINT64_C(1) << 3)      /* sends or writes reports */

typedef struct campaignd_plugin_descriptor {
    /* These three stay first, with these types, in every major, so any host can read them. */
    uint32_t abi_major; /* CAMPAIGND_PLUGIN_ABI_MAJOR the plugin was built against */
    uint32_t abi_minor; /* CAMPAIGND_PLUGIN_ABI_MINOR the plugin was built against */
    size_t struct_size; /* sizeof(campaignd_plugin_descriptor) the plugin was built against */

    /* OWNERSHIP of the three strings: plugin; static storage, NUL-terminated UTF-8, valid until
     * the host dlcloses the object. The host copies them (bounded) and never writes to them.
     * name: 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit; unique among
     * the loaded plugins; names the config section "[Plugin NAME]". version: at most 64 bytes.
     * description: one line, at most 512 bytes. */
    const char *name;
    const char *version;
    const char *description;

    uint64_t capabilities; /* CAMPAIGND_CAP_* bits */

    /* Starts one instance. host: OWNERSHIP host (see campaignd_host). *instance: OWNERSHIP
     * plugin; whatever the plugin stores there (NULL is fine) is passed back to stop() and to
     * capability calls and never dereferenced by the host. err: OWNERSHIP caller (see
     * campaignd_error). On a failure status the plugin has released everything it acquired,
     * stop() is not called, and the object may be unloaded right after. Called once per
     * loaded object, on the host's start-up thread. */
    campaignd_status (*start)(const campaignd_host *host, void **instance, campaignd_error *err);

    /* Stops the instance start() made and releases it: joins any thread the plugin started,
     * closes its connections. Cannot fail. Called once, on the host's thread; the host then
     * unloads the object, so nothing of the plugin may still run after stop() returns. */
    void (*stop)(void *instance);

    /* ---- Appended in 1.1 ---- */

    /* The importer table when capabilities has CAMPAIGND_CAP_IMPORTER; NULL otherwise.
     * OWNERSHIP: plugin; static storage, constant, valid until dlclose. */
    const campaignd_importer *importer;

    /* ---- Appended in 1.2 ---- */

    /* The transport table when capabilities has CAMPAIGND_CAP_TRANSPORT; NULL otherwise.
     * OWNERSHIP: plugin; static storage, constant, valid until dlclose. */
    const campaignd_transport *transport CAMPAIGND_APPENDED;

    /* ---- Appended in 1.3 ---- */

    /* The bounce-source table when capabilities has CAMPAIGND_CAP_BOUNCE_SOURCE; NULL
     * otherwise. OWNERSHIP: plugin; static storage, constant, valid until dlclose. */
    const struct campaignd_bounce_source *bounce_source CAMPAIGND_APPENDED;

    /* The reporter table when capabilities has CAMPAIGND_CAP_REPORTER; NULL otherwise.
     * OWNERSHIP: plugin; static storage, constant, valid until dlclose. */
    const campaignd_reporter *reporter CAMPAIGND_APPENDED;

    /* Appended in later minors (each marked CAMPAIGND_APPENDED): pointers to other capability
     * tables (OWNERSHIP: plugin, static storage). */
} campaignd_plugin_descriptor;

/* The smallest struct_size a host accepts: a 1.0 descriptor. */
#define CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE CAMPAIGND_FIELD_END(campaignd_plugin_descriptor, stop)
/* A descriptor at least this large has the importer field. */
#define CAMPAIGND_PLUGIN_DESCRIPTOR_1_1_SIZE CAMPAIGND_FIELD_END(campaignd_plugin_descriptor, importer)
/* A descriptor at least this large has the transport field. */
#define CAMPAIGND_PLUGIN_DESCRIPTOR_1_2_SIZE CAMPAIGND_FIELD_END(campaignd_plugin_descriptor, transport)
/* A descriptor at least this large has the bounce_source and reporter fields. */
#define CAMPAIGND_PLUGIN_DESCRIPTOR_1_3_SIZE CAMPAIGND_FIELD_END(campaignd_plugin_descriptor, reporter)

/* ---- The entry point ----------------------------------------------------------------------- */

/* The one symbol a plugin exports. Returns its descriptor. OWNERSHIP: plugin; static storage,
 * constant, valid until dlclose. It must have no side effects and must not fail: it is called
 * before the host has checked anything, and may be called more than once. Return NULL only if
 * the object is not usable at all (the host then rejects it). */
CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void);

typedef const campaignd_plugin_descriptor *(*campaignd_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif
