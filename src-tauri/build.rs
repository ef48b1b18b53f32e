//! Embeds `ui/` and the window configuration, and generates the permissions
//! for the app's own commands: each one is denied unless a capability in
//! `capabilities/` allows it (`allow-<command>`).

const COMMANDS: &[&str] = &[
    "session_snapshot",
    "logout",
    "refresh_qr",
    "reconnect_now",
    "contacts",
    "contact_details",
    "avatar",
    "set_blocked",
    "settings",
    "set_default_country",
    "set_confirm_blocks",
    "sync_app_state",
    "preview_numbers",
    "start_check",
    "check_rows",
    "steer_check",
    "set_check_rate",
    "export_check",
    "block_checked",
    "undo_bulk",
    "groups",
    "group_members",
    "set_group_timer",
    "set_chat_timer",
    "add_checked_to_group",
    "add_numbers_to_group",
    "group_add_job",
    "undo_group_add",
    "send_group_invite",
    "add_to_directory",
    "audit_log",
    "export_audit",
    "export_contacts",
    "set_blocked_many",
    "show_in_folder",
    "link_with_code",
    "accounts",
    "switch_account",
    "add_account",
    "remove_account",
];

fn main() {
    // `ui/` is embedded at compile time; rebuild when any of it changes.
    println!("cargo:rerun-if-changed=../ui");
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
