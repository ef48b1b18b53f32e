//! Every table of `roster.db`, in the order its migrations run: the full
//! shape of each table is here, in one place. A migration, once released,
//! never changes: a new shape is a new entry at the end (`user_version`
//! counts the entries applied).

pub(super) const MIGRATIONS: &[&str] = &[
    // 1: contacts and blocklist.
    "CREATE TABLE contact (
        phone        TEXT PRIMARY KEY,          -- E.164 digits
        lid          TEXT UNIQUE,               -- LID user, when known
        saved_name   TEXT,                      -- name in the phone's address book
        push_name    TEXT,
        about        TEXT,
        about_set_at INTEGER,
        about_state  TEXT NOT NULL DEFAULT 'unknown',   -- unknown | shown | hidden
        picture_id   TEXT,
        picture_state TEXT NOT NULL DEFAULT 'unknown',  -- unknown | shown | hidden | none
        in_address_book INTEGER NOT NULL DEFAULT 0,
        updated_at   INTEGER NOT NULL
    );
    CREATE TABLE blocked (
        lid        TEXT PRIMARY KEY,
        phone      TEXT,
        blocked_at INTEGER
    );",
    // 2: search index over names, number and LID (substring match, case-insensitive).
    "CREATE VIRTUAL TABLE contact_search USING fts5(haystack, tokenize = 'trigram');
    CREATE TRIGGER contact_search_ai AFTER INSERT ON contact BEGIN
        INSERT INTO contact_search(rowid, haystack) VALUES (new.rowid,
            coalesce(new.saved_name, '') || ' ' || coalesce(new.push_name, '') || ' ' || new.phone || ' ' || coalesce(new.lid, ''));
    END;
    CREATE TRIGGER contact_search_ad AFTER DELETE ON contact BEGIN
        DELETE FROM contact_search WHERE rowid = old.rowid;
    END;
    CREATE TRIGGER contact_search_au AFTER UPDATE OF saved_name, push_name, phone, lid ON contact BEGIN
        DELETE FROM contact_search WHERE rowid = old.rowid;
        INSERT INTO contact_search(rowid, haystack) VALUES (new.rowid,
            coalesce(new.saved_name, '') || ' ' || coalesce(new.push_name, '') || ' ' || new.phone || ' ' || coalesce(new.lid, ''));
    END;
    CREATE INDEX contact_name ON contact(coalesce(saved_name, push_name, phone) COLLATE NOCASE);",
    // 3: picture cache.
    "CREATE TABLE picture (
        phone      TEXT NOT NULL,
        picture_id TEXT NOT NULL,
        url        TEXT,
        thumb      BLOB,
        fetched_at INTEGER NOT NULL,
        PRIMARY KEY (phone, picture_id)
    );",
    // 4: the operator's settings (default country...), and when the server
    //    last answered for a contact's profile (to trust "hidden"/"none" a while).
    "CREATE TABLE setting (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    ALTER TABLE contact ADD COLUMN profile_at INTEGER;",
    // 5: number checks: jobs, their lines, and answers reused for a while.
    "
    CREATE TABLE number_check (
        phone       TEXT PRIMARY KEY,
        on_whatsapp INTEGER NOT NULL,
        lid         TEXT,
        checked_at  INTEGER NOT NULL
    );
    CREATE TABLE check_job (
        id           INTEGER PRIMARY KEY,
        created_at   INTEGER NOT NULL,
        state        TEXT NOT NULL,
        rate_per_min INTEGER NOT NULL
    );
    CREATE TABLE check_item (
        job_id      INTEGER NOT NULL REFERENCES check_job(id) ON DELETE CASCADE,
        line        INTEGER NOT NULL,
        input       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        value       TEXT,
        state       TEXT NOT NULL,
        on_whatsapp INTEGER,
        phone       TEXT,
        lid         TEXT,
        name        TEXT,
        source      TEXT,
        checked_at  INTEGER,
        error       TEXT,
        PRIMARY KEY (job_id, line)
    );
    CREATE INDEX check_item_state ON check_item(job_id, state, line);
    CREATE INDEX number_check_lid ON number_check(lid);",
    // 6: bulk blocks (and their undo) from a number check.
    "
    CREATE TABLE bulk_action (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,            -- block | unblock
        undoes     INTEGER REFERENCES bulk_action(id),
        job_id     INTEGER,
        created_at INTEGER NOT NULL,
        state      TEXT NOT NULL             -- running | done
    );
    CREATE TABLE bulk_item (
        action_id INTEGER NOT NULL REFERENCES bulk_action(id) ON DELETE CASCADE,
        lid       TEXT NOT NULL,
        phone     TEXT,
        state     TEXT NOT NULL,             -- pending | done | failed
        error     TEXT,
        PRIMARY KEY (action_id, lid)
    );",
    // 7: groups and their members; a check limited to a group; contacts
    //    added to the directory from a check.
    "
    CREATE TABLE chat_group (
        jid        TEXT PRIMARY KEY,
        subject    TEXT NOT NULL,
        fetched_at INTEGER NOT NULL
    );
    CREATE TABLE group_member (
        group_jid TEXT NOT NULL REFERENCES chat_group(jid) ON DELETE CASCADE,
        lid       TEXT,
        phone     TEXT
    );
    CREATE INDEX group_member_lid ON group_member(group_jid, lid);
    CREATE INDEX group_member_phone ON group_member(group_jid, phone);
    ALTER TABLE check_job ADD COLUMN group_jid TEXT;
    ALTER TABLE contact ADD COLUMN added_at INTEGER;",
    // 8: the audit log of operator actions.
    "
    CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT,
        outcome TEXT NOT NULL,   -- started | done | failed
        detail  TEXT
    );",
    // 9: the search index folds accents ("garcia" finds "García"); the
    //    triggers of 2 keep filling it.
    "
    DROP TABLE contact_search;
    CREATE VIRTUAL TABLE contact_search USING fts5(haystack, tokenize = 'trigram remove_diacritics 1');
    INSERT INTO contact_search(rowid, haystack)
        SELECT rowid, coalesce(saved_name, '') || ' ' || coalesce(push_name, '') || ' ' || phone || ' ' || coalesce(lid, '')
        FROM contact;",
    // 10: the phone's chat list from its history sync, with each chat's
    //     disappearing-message timer; the account's own push name.
    "
    CREATE TABLE chat (
        jid                  TEXT PRIMARY KEY,   -- as the phone names it: PN, LID or group JID
        kind                 TEXT NOT NULL,      -- direct | group
        ephemeral_expiration INTEGER NOT NULL DEFAULT 0,  -- disappearing-message timer, seconds; 0: off
        ephemeral_set_at     INTEGER,            -- when the timer was set (Unix seconds), if said
        synced_at            INTEGER NOT NULL
    );
    CREATE TABLE account (
        phone      TEXT PRIMARY KEY,             -- E.164 digits
        push_name  TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );",
    // 11: groups and communities: the account's role, member roles, the
    //     community structure, settings and timer; jobs adding people to a
    //     group (each person saved before anything is sent) and their undos.
    "
    ALTER TABLE chat_group ADD COLUMN role TEXT NOT NULL DEFAULT 'member';   -- member | admin | superadmin
    ALTER TABLE chat_group ADD COLUMN is_community INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE chat_group ADD COLUMN parent_jid TEXT;                       -- a linked group's community
    ALTER TABLE chat_group ADD COLUMN announcement_group INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE chat_group ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE chat_group ADD COLUMN admins_only_messages INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE chat_group ADD COLUMN timer INTEGER NOT NULL DEFAULT 0;      -- seconds; 0: off
    ALTER TABLE chat_group ADD COLUMN size INTEGER;                          -- the server's participant count
    ALTER TABLE group_member ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE group_add (
        id         INTEGER PRIMARY KEY,
        group_jid  TEXT NOT NULL,
        job_id     INTEGER,                  -- the check it came from, if any
        undoes     INTEGER REFERENCES group_add(id),
        created_at INTEGER NOT NULL,
        state      TEXT NOT NULL             -- running | done
    );
    CREATE TABLE group_add_item (
        action_id         INTEGER NOT NULL REFERENCES group_add(id) ON DELETE CASCADE,
        seq               INTEGER NOT NULL,  -- the order given
        line              INTEGER,           -- the check's line
        phone             TEXT,
        lid               TEXT,
        was_member        INTEGER NOT NULL DEFAULT 0,  -- in the group when planned (server's list)
        state             TEXT NOT NULL,     -- pending | sent | done
        outcome           TEXT NOT NULL,     -- AddOutcome
        code              INTEGER,
        invite_code       TEXT,
        invite_expiration INTEGER,
        PRIMARY KEY (action_id, seq)
    );",
    // 12: the list is searched and sorted in memory (`search_index.rs`):
    //     the FTS index, the triggers that filled it and the name index go,
    //     so writing the directory no longer pays for them.
    "
    DROP TRIGGER contact_search_ai;
    DROP TRIGGER contact_search_ad;
    DROP TRIGGER contact_search_au;
    DROP TABLE contact_search;
    DROP INDEX contact_name;",
    // 13: when the account sent a person the invite WhatsApp held for them
    //     (an add their privacy refused).
    "ALTER TABLE group_add_item ADD COLUMN invite_sent_at INTEGER;",
];
