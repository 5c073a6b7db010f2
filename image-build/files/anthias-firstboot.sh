#!/bin/bash
# First boot of an Anthias Edge image (run as root by anthias-firstboot.service).
#
# Reads the boot partition's file set, which an admin writes after flashing (or the image
# build bakes in):
#   anthias-device.conf  name=, cloud=, hostname=, wifi_ssid=, wifi_psk=, wifi_country=
#   anthias-fleet.token  a fleet token (aft_...), or token=/cloud=/name= lines
# applies the host name and Wi-Fi, then enrols the device with the fleet token as the
# anthias user (`anthias-edge link --fleet-token-file ... --wait`, which retries while
# offline) and deletes the token from the card. Once done it records what it applied, so
# later boots do nothing until the card's files change.
#
# Exit status: 0 done or nothing to do; 2 the cloud refused the token (it stays on the card,
# the next boot tries again); 1 any other error.
set -euo pipefail
export LC_ALL=C.UTF-8

boot_dir=${ANTHIAS_BOOT_DIR:-/boot/firmware}
device_conf=$boot_dir/anthias-device.conf
token_file=$boot_dir/anthias-fleet.token
service_user=anthias
anthias_edge=/usr/local/bin/anthias-edge
state_dir=/var/lib/anthias-edge
applied_stamp=$state_dir/firstboot.applied
nm_connections=/etc/NetworkManager/system-connections
wifi_connection=anthias-wifi

declare -A conf=()

log() {
    # journald timestamps the unit's stderr.
    printf 'anthias-firstboot: %s\n' "$*" >&2
}

# The card's files as they are now; the stamp holds this after a complete run.
card_state() {
    local file
    for file in "$device_conf" "$token_file"; do
        if [[ -f $file ]]; then
            printf '%s %s\n' "$(sha256sum <"$file" | cut -d' ' -f1)" "${file##*/}"
        fi
    done
}

# anthias-device.conf is edited by hand on any computer (FAT, maybe with CRLF line ends),
# so it is parsed, never sourced: a line is name=value, a value may be quoted.
read_device_conf() {
    [[ -f $device_conf ]] || return 0
    local line key value number=0
    while IFS= read -r line || [[ -n $line ]]; do
        number=$((number + 1))
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        if [[ ! $line =~ ^[[:space:]]*([A-Za-z_]+)[[:space:]]*=(.*)$ ]]; then
            log "anthias-device.conf line $number ignored: it is not name=value"
            continue
        fi
        key=${BASH_REMATCH[1],,}
        value=${BASH_REMATCH[2]}
        value=${value#"${value%%[![:space:]]*}"}
        value=${value%"${value##*[![:space:]]}"}
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
            value=${BASH_REMATCH[1]}
        fi
        case $key in
            name | cloud | hostname | wifi_ssid | wifi_psk | wifi_country) conf[$key]=$value ;;
            *) log "anthias-device.conf line $number ignored: unknown setting '$key'" ;;
        esac
    done <"$device_conf"
}

valid() {
    local key=$1 value=$2
    case $key in
        name) ((${#value} >= 1 && ${#value} <= 100)) ;;
        cloud) [[ $value =~ ^https?://[^[:space:]/]+(/[^[:space:]]*)?$ ]] ;;
        hostname) [[ $value =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] ;;
        wifi_ssid) ((${#value} >= 1 && ${#value} <= 32)) ;;
        wifi_psk) [[ $value =~ ^[[:print:]]{8,63}$ || $value =~ ^[0-9A-Fa-f]{64}$ ]] ;;
        wifi_country) [[ $value =~ ^[A-Z]{2}$ ]] ;;
    esac
}

# Drop settings that are present but wrong, saying which; the rest still applies. A wrong
# Wi-Fi setting drops all of them (and leaves them on the card to be fixed): an open network
# must not be made in place of the protected one the admin meant.
check_conf() {
    local key wifi_wrong=0
    [[ -n ${conf[hostname]:-} ]] && conf[hostname]=${conf[hostname],,}
    [[ -n ${conf[wifi_country]:-} ]] && conf[wifi_country]=${conf[wifi_country]^^}
    for key in "${!conf[@]}"; do
        [[ -z ${conf[$key]} ]] && { unset "conf[$key]"; continue; }
        if ! valid "$key" "${conf[$key]}"; then
            case $key in
                wifi_psk) log "anthias-device.conf: wifi_psk ignored: 8 to 63 characters or 64 hex digits" ;;
                *) log "anthias-device.conf: $key ignored: '${conf[$key]}' is not valid" ;;
            esac
            unset "conf[$key]"
            [[ $key == wifi_* ]] && wifi_wrong=1
        fi
    done
    if ((wifi_wrong)); then
        log "anthias-device.conf: Wi-Fi not set up; fix its wifi_ lines"
        unset "conf[wifi_ssid]" "conf[wifi_psk]" "conf[wifi_country]"
    fi
    return 0
}

systemd_running() {
    [[ -d /run/systemd/system ]]
}

network_manager_running() {
    command -v nmcli >/dev/null && nmcli -t -f RUNNING general status 2>/dev/null | grep -qx running
}

apply_hostname() {
    local name=$1
    [[ $(cat /etc/hostname 2>/dev/null) == "$name" ]] && return 0
    printf '%s\n' "$name" >/etc/hostname
    if grep -q '^127\.0\.1\.1[[:space:]]' /etc/hosts 2>/dev/null; then
        sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$name/" /etc/hosts
    else
        printf '127.0.1.1\t%s\n' "$name" >>/etc/hosts
    fi
    if systemd_running; then
        hostnamectl set-hostname "$name" || log "hostnamectl failed; the name applies at the next boot"
    fi
    log "host name set to $name"
}

set_wifi_country() {
    local country=$1
    if command -v raspi-config >/dev/null; then
        # Raspberry Pi OS: sets the regulatory domain for this and later boots and unblocks Wi-Fi.
        raspi-config nonint do_wifi_country "$country"
    else
        install -d -m 0755 /etc/modprobe.d
        printf 'options cfg80211 ieee80211_regdom=%s\n' "$country" \
            >/etc/modprobe.d/anthias-wifi-country.conf
        if command -v iw >/dev/null; then
            iw reg set "$country" || true
        fi
    fi
    log "Wi-Fi country set to $country"
}

# A NetworkManager keyfile (Raspberry Pi OS Bookworm manages Wi-Fi with NetworkManager).
write_wifi_connection() {
    local ssid=$1 psk=${2:-} file=$nm_connections/$wifi_connection.nmconnection tmp
    install -d -m 0700 "$nm_connections"
    tmp=$(mktemp "$nm_connections/.$wifi_connection.XXXXXX")
    {
        printf '[connection]\nid=%s\ntype=wifi\nautoconnect=true\n\n' "$wifi_connection"
        printf '[wifi]\nmode=infrastructure\nssid=%s\n\n' "${ssid//\\/\\\\}"
        if [[ -n $psk ]]; then
            printf '[wifi-security]\nkey-mgmt=wpa-psk\npsk=%s\n\n' "${psk//\\/\\\\}"
        fi
        printf '[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n'
    } >"$tmp"
    chmod 0600 "$tmp"
    mv -f "$tmp" "$file"
    log "Wi-Fi network '$ssid' added ($file)"
}

# The Wi-Fi password must not stay on the card, which anyone holding it can read: the
# wifi_* lines are replaced by a note once applied.
remove_wifi_lines() {
    local tmp
    tmp=$(mktemp "$boot_dir/.anthias-device.conf.XXXXXX") || {
        log "cannot rewrite $device_conf: remove the Wi-Fi password from it by hand"
        return 0
    }
    grep -v -i -E '^[[:space:]]*wifi_(ssid|psk|country)[[:space:]]*=' "$device_conf" >"$tmp" || true
    printf '# Wi-Fi (%s) applied on %s and removed from this file.\n' \
        "${conf[wifi_ssid]:-country ${conf[wifi_country]:-}}" "$(date -u +%Y-%m-%d)" >>"$tmp"
    mv -f "$tmp" "$device_conf"
}

apply_wifi() {
    [[ -n ${conf[wifi_ssid]:-} || -n ${conf[wifi_country]:-} ]] || return 0
    [[ -n ${conf[wifi_country]:-} ]] && set_wifi_country "${conf[wifi_country]}"
    [[ -n ${conf[wifi_ssid]:-} ]] && write_wifi_connection "${conf[wifi_ssid]}" "${conf[wifi_psk]:-}"
    if network_manager_running; then
        nmcli radio wifi on || true
        nmcli connection reload || log "nmcli could not reload; the network comes up at the next boot"
    fi
    remove_wifi_lines
}

# anthias-edge as the anthias user, with a clean environment and its own HOME.
as_service_user() {
    local home=$1
    shift
    setpriv --reuid="$service_user" --regid="$service_user" --init-groups \
        env -i HOME="$home" USER="$service_user" LANG=C.UTF-8 \
        PATH=/usr/local/bin:/usr/bin:/bin "$anthias_edge" "$@"
}

# Enrol as the anthias user (its key and database live in its home) from a private copy of
# the token in /run (tmpfs), then delete the card's copy, which the user cannot write.
enrol() {
    if [[ ! -s $token_file ]]; then
        log "no fleet token on the boot partition: nothing to enrol"
        return 0
    fi
    local work rc=0 home
    home=$(getent passwd "$service_user" | cut -d: -f6)
    [[ -n $home ]] || { log "error: user $service_user does not exist"; return 1; }
    work=$(mktemp -d /run/anthias-firstboot.XXXXXX)
    # shellcheck disable=SC2064  # expand now: the path is fixed once made
    trap "rm -rf '$work'" EXIT
    chown "$service_user:" "$work"
    chmod 0700 "$work"
    install -m 0600 -o "$service_user" -g "$service_user" "$token_file" "$work/fleet.token"
    local args=(link --fleet-token-file "$work/fleet.token" --wait)
    [[ -n ${conf[cloud]:-} ]] && args+=(--cloud "${conf[cloud]}")
    [[ -n ${conf[name]:-} ]] && args+=(--name "${conf[name]}")
    # The link is stored in the device's database, which the server migrates when it first
    # starts; this may run before that, so migrate here (a no-op once done).
    as_service_user "$home" migrate || { log "error: the database migration failed"; return 1; }
    log "enrolling as ${conf[name]:-the host name} with ${conf[cloud]:-the token file's or settings' cloud}"
    as_service_user "$home" "${args[@]}" || rc=$?
    case $rc in
        0)
            rm -f "$token_file"
            log "enrolled; the fleet token was removed from the boot partition"
            ;;
        2) log "the cloud refused the fleet token; it stays on the card for the next boot" ;;
        *) log "error: enrolment failed (anthias-edge link exited $rc)" ;;
    esac
    return "$rc"
}

main() {
    if [[ -f $applied_stamp && $(card_state) == "$(cat "$applied_stamp")" ]]; then
        log "nothing to do: the boot partition's files were applied before"
        return 0
    fi
    read_device_conf
    check_conf
    [[ -n ${conf[hostname]:-} ]] && apply_hostname "${conf[hostname]}"
    apply_wifi
    enrol
    install -d -m 0755 "$state_dir"
    card_state >"$applied_stamp"
}

main "$@"
