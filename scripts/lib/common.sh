# shellcheck shell=bash
# Helpers shared by the deploy scripts (package, get-mcp-key, register-api-center,
# connect-foundry, smoke-remote). Sourced, never executed.
#
# Secrets rule: a key lives only in a shell variable or a mode-600 temp file; it reaches az and
# curl through a file or stdin, so it never shows in argv (ps), in --dry-run output or in logs.

# shellcheck disable=SC2034 # read by the scripts that source this file
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCRIPT_NAME="$(basename "$0")"
DRY_RUN=0

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
	exit 1
}

# A private temp dir removed on exit, for request bodies and header files holding the key.
# Made here, in the sourcing shell: made inside $(...) its EXIT trap would fire as soon as the
# command substitution ended and take the files with it.
_TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/mcp-deploy.XXXXXX")"
chmod 700 "$_TMPDIR"
trap 'rm -rf "$_TMPDIR"' EXIT
tmpdir() { printf '%s\n' "$_TMPDIR"; }

require_cmd() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH. $2"
}

# az present and logged in; skipped under --dry-run so a plan can be printed anywhere.
require_az_login() {
	[ "$DRY_RUN" = 1 ] && return 0
	require_cmd az "Install the Azure CLI: https://learn.microsoft.com/cli/azure/install-azure-cli"
	if ! az account show --only-show-errors -o none >/dev/null 2>&1; then
		die "the Azure CLI is not logged in. Run 'az login' (and 'az account set --subscription <id>') first."
	fi
}

# Print a command the way --dry-run shows it: one shell-quoted line on stdout.
show_cmd() {
	local out="" a
	for a in "$@"; do out+="$(printf '%q' "$a") "; done
	printf '+ %s\n' "${out% }"
}

# Run az, or under --dry-run only print it. A body passed as @file is printed too, so the plan
# shows exactly what would be sent (bodies never contain a key; see connect-foundry).
az_run() {
	if [ "$DRY_RUN" = 1 ]; then
		show_cmd az "$@"
		local a
		for a in "$@"; do
			case "$a" in
			@*) if [ -f "${a#@}" ]; then
				printf '  body %s:\n' "$a"
				sed 's/^/    /' "${a#@}"
			fi ;;
			esac
		done
		return 0
	fi
	az "$@"
}

# Values from `azd env get-values` (KEY="value" lines) without eval-ing them.
azd_env_value() {
	local key="$1" line
	command -v azd >/dev/null 2>&1 || return 0
	line="$(azd env get-values 2>/dev/null | grep -E "^${key}=" | tail -n 1 || true)"
	line="${line#*=}"
	line="${line#\"}"
	line="${line%\"}"
	printf '%s' "$line"
}

# Fill RESOURCE_GROUP / APP_NAME from azd when flags did not set them.
resolve_app() {
	if [ -z "${RESOURCE_GROUP:-}" ]; then RESOURCE_GROUP="$(azd_env_value AZURE_RESOURCE_GROUP)"; fi
	if [ -z "${APP_NAME:-}" ]; then APP_NAME="$(azd_env_value AZURE_FUNCTION_APP_NAME)"; fi
	[ -n "${RESOURCE_GROUP:-}" ] || die "no resource group: pass --resource-group, or run from an azd environment that has AZURE_RESOURCE_GROUP (azd up)."
	[ -n "${APP_NAME:-}" ] || die "no function app name: pass --app, or run from an azd environment that has AZURE_FUNCTION_APP_NAME (azd up)."
}

mcp_url() { printf 'https://%s.azurewebsites.net/runtime/webhooks/mcp' "$1"; }

# Minimal JSON string escaping for values we put in request bodies (names, URLs).
json_str() {
	local s="$1"
	s="${s//\\/\\\\}"
	s="${s//\"/\\\"}"
	s="${s//$'\n'/\\n}"
	s="${s//$'\t'/\\t}"
	s="${s//$'\r'/\\r}"
	printf '"%s"' "$s"
}

# fetch_mcp_key RG APP ATTEMPTS DELAY -> writes the mcp_extension system key into a mode-600
# file and prints the file's path. The key exists only once the host has started (the MCP
# extension creates it), so each miss warms the app up and waits, with a bounded backoff.
fetch_mcp_key() {
	local rg="$1" app="$2" attempts="${3:-6}" delay="${4:-5}" file key="" i=1 wait
	file="$(tmpdir)/mcp-key"
	if [ "$DRY_RUN" = 1 ]; then
		# stderr: stdout of this function is the key file's path.
		show_cmd curl -s -o /dev/null -m 30 "https://$app.azurewebsites.net/" >&2
		show_cmd az functionapp keys list -g "$rg" -n "$app" --query systemKeys.mcp_extension -o tsv >&2
		printf '<redacted>' >"$file"
		printf '%s\n' "$file"
		return 0
	fi
	while :; do
		key="$(az functionapp keys list -g "$rg" -n "$app" --query systemKeys.mcp_extension -o tsv 2>/dev/null || true)"
		key="$(printf '%s' "$key" | tr -d '\r\n')"
		[ -n "$key" ] && break
		[ "$i" -ge "$attempts" ] && die "no mcp_extension system key on $app after $attempts attempts. The host creates it on first start: open https://$app.azurewebsites.net/ , check the app's log stream for start-up errors, and retry."
		log "no mcp_extension key yet (attempt $i/$attempts); warming up the app"
		# Any request starts the host; a 401/404 answer is fine here.
		curl -s -o /dev/null -m 30 "https://$app.azurewebsites.net/" || true
		curl -s -o /dev/null -m 30 "$(mcp_url "$app")" || true
		wait=$((delay * i))
		[ "$wait" -gt 30 ] && wait=30
		sleep "$wait"
		i=$((i + 1))
	done
	(umask 077 && printf '%s' "$key" >"$file")
	printf '%s\n' "$file"
}
