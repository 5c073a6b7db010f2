#!/usr/bin/env bash
# Build a Raspberry Pi OS (bookworm, arm64) image with Anthias Edge, using pi-gen.
#
#   image-build/build.sh [-c CONFIG]                 build the image (as root)
#   image-build/build.sh [-c CONFIG] --check         only say whether this host can build
#   image-build/build.sh [-c CONFIG] --dry-run DIR   render the stage and pi-gen's config
#                                                    into DIR; no pi-gen, no root
#        add --with-dependencies to fetch the arm64 wheels into the wheelhouse as a build does
#
# CONFIG is sourced after image-build/config (the documented defaults), so it only needs the
# lines it changes. The image is pi-gen's stage0-stage2 (Raspberry Pi OS Lite) plus
# image-build/stage-anthias, which installs a wheel built from this checkout. When the host
# cannot run pi-gen, the script lists everything that is missing and exits 1 before
# building anything. docs/image-build.md explains the image and its first boot.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
cache=${XDG_CACHE_HOME:-$HOME/.cache}/anthias-edge
python=${PYTHON:-python3}

# Units in systemd/ that belong to the cloud server, not to a device.
cloud_units=(anthias-cloud.service anthias-keys-rotate.service anthias-keys-rotate.timer)

# Commands pi-gen needs on the build host, each with the Debian package that has it (pi-gen
# checks the same list, its `depends` file, but stops at the first kind of gap).
host_tools=(
    quilt parted realpath:coreutils qemu-arm-static:qemu-user-static debootstrap zerofree zip
    mkdosfs:dosfstools mke2fs:e2fsprogs capsh:libcap2-bin bsdtar:libarchive-tools grep rsync
    xz:xz-utils curl xxd file git lsmod:kmod bc gpg pigz arch-test losetup:mount
)

die() {
    echo "build.sh: error: $*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
}

# --- configuration ------------------------------------------------------------------------

load_config() {
    # shellcheck source=/dev/null  # image-build/config, the documented defaults
    source "$here/config"
    if [[ -n $1 ]]; then
        [[ -f $1 ]] || die "config file $1 does not exist"
        # shellcheck disable=SC1090  # the admin's own config
        source "$1"
    fi
}

check_config() {
    local problems=()
    [[ $RELEASE == bookworm ]] ||
        problems+=("RELEASE=$RELEASE: only bookworm is supported (Debian 12, Python 3.11)")
    [[ $IMG_NAME =~ ^[A-Za-z0-9._-]+$ ]] ||
        problems+=("IMG_NAME='$IMG_NAME': use letters, digits, '.', '_' or '-'")
    [[ $DEPLOY_COMPRESSION =~ ^(xz|zip|gz|none)$ ]] ||
        problems+=("DEPLOY_COMPRESSION='$DEPLOY_COMPRESSION': one of xz, zip, gz, none")
    [[ $EXPORT_LITE_IMAGE =~ ^[01]$ ]] ||
        problems+=("EXPORT_LITE_IMAGE='$EXPORT_LITE_IMAGE': 0 or 1")
    if [[ -n $ANTHIAS_FLEET_TOKEN && ! $ANTHIAS_FLEET_TOKEN =~ ^aft_[A-Za-z0-9_-]{43}$ ]]; then
        problems+=("ANTHIAS_FLEET_TOKEN is not a fleet token (aft_ and 43 letters, digits, - or _)")
    fi
    if [[ -n $ANTHIAS_CLOUD_URL && ! $ANTHIAS_CLOUD_URL =~ ^https?://[^[:space:]/]+(/[^[:space:]]*)?$ ]]; then
        problems+=("ANTHIAS_CLOUD_URL='$ANTHIAS_CLOUD_URL' is not an http(s) address")
    fi
    if [[ -n $ANTHIAS_FLEET_TOKEN && -z $ANTHIAS_CLOUD_URL ]]; then
        problems+=("ANTHIAS_FLEET_TOKEN is set but ANTHIAS_CLOUD_URL is not: the device would not know where to enrol")
    fi
    if [[ -n $ANTHIAS_WHEEL && ! -f $ANTHIAS_WHEEL ]]; then
        problems+=("ANTHIAS_WHEEL=$ANTHIAS_WHEEL does not exist")
    fi
    [[ $TARGET_HOSTNAME =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] ||
        problems+=("TARGET_HOSTNAME='$TARGET_HOSTNAME' is not a host name (a-z, 0-9, -)")
    [[ -z $WPA_COUNTRY || $WPA_COUNTRY =~ ^[A-Z]{2}$ ]] ||
        problems+=("WPA_COUNTRY='$WPA_COUNTRY': two capital letters (GB, DE, US...)")
    [[ $FIRST_USER_NAME =~ ^[a-z][-a-z0-9_]*$ ]] ||
        problems+=("FIRST_USER_NAME='$FIRST_USER_NAME' is not a user name")
    [[ $FIRST_USER_NAME != anthias ]] ||
        problems+=("FIRST_USER_NAME must not be anthias: that is the service's own account")
    [[ $MIN_FREE_GIB =~ ^[0-9]+$ ]] || problems+=("MIN_FREE_GIB='$MIN_FREE_GIB' is not a number")
    if ((${#problems[@]})); then
        printf 'build.sh: the config has problems:\n' >&2
        printf '  - %s\n' "${problems[@]}" >&2
        exit 1
    fi
}

pi_gen_dir() {
    echo "${PI_GEN_DIR:-$cache/pi-gen-$PI_GEN_TAG}"
}

# --- host checks --------------------------------------------------------------------------

# Print one line per thing this host lacks to run pi-gen; print nothing when it has all.
host_gaps() {
    local dep tool package missing_tools=() missing_packages=() dir free_kib
    if [[ $(id -u) != 0 ]]; then
        echo "not root: pi-gen mounts file systems and sets up loop devices (run build.sh as root)"
    fi
    case $(uname -m) in
        aarch64 | arm64) ;;
        *)
            if ! grep -qs ' /proc/sys/fs/binfmt_misc ' /proc/mounts; then
                echo "binfmt_misc is not mounted: arm64 programs cannot run on this $(uname -m) host" \
                    "(modprobe binfmt_misc; mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc)"
            fi
            if ! head -n1 /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null | grep -qx enabled; then
                echo "no qemu-aarch64 interpreter is registered with binfmt_misc" \
                    "(apt-get install qemu-user-static binfmt-support registers it)"
            fi
            ;;
    esac
    for dep in "${host_tools[@]}"; do
        tool=${dep%%:*}
        package=${dep#*:}
        if ! command -v "$tool" >/dev/null; then
            missing_tools+=("$tool")
            missing_packages+=("$package")
        fi
    done
    if ((${#missing_tools[@]})); then
        echo "missing commands: ${missing_tools[*]}" \
            "(apt-get install $(printf '%s\n' "${missing_packages[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//'))"
    fi
    if [[ $(id -u) == 0 ]] && command -v losetup >/dev/null && ! losetup -f >/dev/null 2>&1; then
        echo "no free loop device (losetup -f failed): in a container, give it /dev/loop* (--privileged)"
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "no Python 3.11 or newer as $python (set PYTHON=...) to build the wheel"
    elif ! "$python" -m pip --version >/dev/null 2>&1; then
        echo "$python has no pip (apt-get install python3-pip) to build the wheel"
    fi
    dir=$(pi_gen_dir)
    if [[ -n $PI_GEN_DIR && ! -f $PI_GEN_DIR/build.sh ]]; then
        echo "PI_GEN_DIR=$PI_GEN_DIR is not a pi-gen checkout (no build.sh there)"
    fi
    if [[ $dir == *" "* || ${WORK_DIR:-} == *" "* ]]; then
        echo "the pi-gen or work folder has a space in its path, which debootstrap cannot handle"
    fi
    dir=${WORK_DIR:-$dir}
    while [[ ! -d $dir ]]; do dir=$(dirname "$dir"); done
    free_kib=$(df -Pk "$dir" | awk 'NR == 2 {print $4}')
    if ((free_kib < MIN_FREE_GIB * 1024 * 1024)); then
        echo "only $((free_kib / 1024 / 1024)) GiB free in $dir; pi-gen needs $MIN_FREE_GIB GiB (MIN_FREE_GIB)"
    fi
}

check_host() {
    local gaps gap
    gaps=$(host_gaps)
    if [[ -n $gaps ]]; then
        echo "build.sh: this host cannot build the image yet; missing:" >&2
        while IFS= read -r gap; do echo "  - $gap"; done <<<"$gaps" >&2
        return 1
    fi
    echo "build.sh: this host can run pi-gen ($(uname -m), $(pi_gen_dir))"
}

# --- the wheel ----------------------------------------------------------------------------

# Build the wheel from a copy of the checkout's files, so the build leaves nothing (build/,
# egg-info) in a tree others may be working in. Prints the wheel's path.
build_wheel() {
    local out=$1 src
    if [[ -n $ANTHIAS_WHEEL ]]; then
        cp "$ANTHIAS_WHEEL" "$out/"
        echo "$out/${ANTHIAS_WHEEL##*/}"
        return
    fi
    src=$(mktemp -d)
    # shellcheck disable=SC2064  # expand now
    trap "rm -rf '$src'" RETURN
    local parts=(setup.cfg pyproject.toml MANIFEST.in README.md anthias_edge player web_ui cloud_sync)
    if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
        # Tracked and new files, not what .gitignore leaves out (caches, build output).
        (cd "$repo" && git ls-files -z --cached --others --exclude-standard -- "${parts[@]}" |
            xargs -0 cp --parents -t "$src")
    else
        (cd "$repo" && cp -r --parents -t "$src" "${parts[@]}")
    fi
    "$python" -m pip wheel --quiet --no-deps --wheel-dir "$out" "$src" >&2
    ls "$out"/anthias_edge-*.whl
}

# The wheels of the app's dependencies for the Pi (aarch64, CPython 3.11, glibc 2.36), so
# the image installs offline and quickly instead of under emulation.
download_dependencies() {
    local wheel=$1 wheelhouse=$2 glibc platforms=()
    # pip takes a manylinux_2_NN platform literally (only the legacy manylinux2014 name is
    # widened), so every glibc level the Pi's 2.36 can load is named.
    for ((glibc = 36; glibc >= 17; glibc--)); do
        platforms+=(--platform "manylinux_2_${glibc}_aarch64")
    done
    "$python" -m pip download --quiet --only-binary=:all: --dest "$wheelhouse" \
        "${platforms[@]}" --platform manylinux2014_aarch64 --python-version 3.11 \
        --implementation cp --abi cp311 "$wheel" >&2
}

# --- rendering ----------------------------------------------------------------------------

# Where each file of systemd/ goes in the image (relative to /), or "skip" with a reason.
unit_destination() {
    local name=$1
    local cloud
    for cloud in "${cloud_units[@]}"; do
        [[ $name == "$cloud" ]] && { echo "skip: a cloud server unit"; return; }
    done
    case $name in
        # Installed under the package's name, as the files themselves say.
        anthias.sysusers.conf) echo "usr/lib/sysusers.d/anthias-edge.conf" ;;
        anthias.tmpfiles.conf) echo "usr/lib/tmpfiles.d/anthias-edge.conf" ;;
        *.sysusers.conf) echo "usr/lib/sysusers.d/${name%.sysusers.conf}.conf" ;;
        *.tmpfiles.conf) echo "usr/lib/tmpfiles.d/${name%.tmpfiles.conf}.conf" ;;
        *.service | *.timer | *.socket | *.path | *.target) echo "etc/systemd/system/$name" ;;
        *.rules) echo "etc/polkit-1/rules.d/$name" ;;
        *.sudoers) echo "etc/sudoers.d/${name%.sudoers}" ;;
        *.desktop) echo "skip: desktop autostart; the Lite image runs the kiosk under cage" ;;
        README.md) echo "opt/anthias-edge/systemd/README.md" ;;
        *) echo "unknown" ;;
    esac
}

render_units() {
    local rootfs=$1 install=$2 path name target dropin
    : >"$install/enable-units"
    for path in "$repo"/systemd/*; do
        name=${path##*/}
        if [[ -d $path ]]; then
            # Drop-ins such as getty@tty1.service.d/ override a unit the image already has.
            [[ $name == *.d ]] || die "systemd/$name/: a folder that is not a drop-in (.d)"
            install -d -m 0755 "$rootfs/etc/systemd/system/$name"
            for dropin in "$path"/*.conf; do
                install -m 0644 "$dropin" "$rootfs/etc/systemd/system/$name/"
            done
            continue
        fi
        target=$(unit_destination "$name")
        case $target in
            skip:*) continue ;;
            unknown) die "systemd/$name: build.sh does not know where it goes in the image" ;;
        esac
        install -d -m 0755 "$rootfs/$(dirname "$target")"
        case $target in
            etc/sudoers.d/*) install -m 0440 "$path" "$rootfs/$target" ;;
            *) install -m 0644 "$path" "$rootfs/$target" ;;
        esac
        if [[ $target == etc/systemd/system/* && $name != *@* ]] && grep -q '^\[Install\]' "$path"; then
            echo "$name" >>"$install/enable-units"
        fi
    done
}

# The boot partition's file set: anthias-device.conf always (a template to fill in after
# flashing), anthias-fleet.token only when the config bakes one in.
render_boot_files() {
    local boot=$1
    install -d -m 0755 "$boot"
    {
        echo "# Anthias Edge: read once at first boot by anthias-firstboot (docs/image-build.md)."
        echo "# Lines are name=value; quote a value that has spaces at its ends."
        echo "# The device's name in the cloud (default: its host name):"
        echo "name="
        echo "# The cloud it enrols with, using anthias-fleet.token next to this file:"
        echo "cloud=$ANTHIAS_CLOUD_URL"
        echo "# A host name for this device (default: $TARGET_HOSTNAME):"
        echo "hostname="
        echo "# Wi-Fi; the password is removed from this file once applied:"
        echo "wifi_ssid="
        echo "wifi_psk="
        echo "wifi_country=$WPA_COUNTRY"
    } >"$boot/anthias-device.conf"
    chmod 0644 "$boot/anthias-device.conf"
    if [[ -n $ANTHIAS_FLEET_TOKEN ]]; then
        (umask 077 && printf '%s\n' "$ANTHIAS_FLEET_TOKEN" >"$boot/anthias-fleet.token")
    fi
}

# pi-gen's config: its own variables only, each exported (pi-gen exports just the ones it
# knows, and the stage reads ANTHIAS_LOCK_FIRST_USER).
render_pi_gen_config() {
    local out=$1 stage=$2 pigen lock=0 pass=$FIRST_USER_PASS ssh=0 pubkey_only=0 name
    pigen=$(pi_gen_dir)
    if [[ -z $pass ]]; then
        # pi-gen requires a password when the first boot does not ask for a user; the stage
        # locks this one again.
        pass=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
        lock=1
    fi
    if [[ -n $ADMIN_SSH_KEY ]]; then
        ssh=1
        pubkey_only=1
    fi
    local -A values=(
        [IMG_NAME]=$IMG_NAME [RELEASE]=$RELEASE [DEPLOY_COMPRESSION]=$DEPLOY_COMPRESSION
        [TARGET_HOSTNAME]=$TARGET_HOSTNAME [LOCALE_DEFAULT]=$LOCALE_DEFAULT
        [TIMEZONE_DEFAULT]=$TIMEZONE_DEFAULT [KEYBOARD_KEYMAP]=$KEYBOARD_KEYMAP
        [KEYBOARD_LAYOUT]=$KEYBOARD_LAYOUT [FIRST_USER_NAME]=$FIRST_USER_NAME
        [FIRST_USER_PASS]=$pass [DISABLE_FIRST_BOOT_USER_RENAME]=1
        [ANTHIAS_LOCK_FIRST_USER]=$lock [ENABLE_SSH]=$ssh [PUBKEY_ONLY_SSH]=$pubkey_only
        [STAGE_LIST]="$pigen/stage0 $pigen/stage1 $pigen/stage2 $stage"
    )
    [[ -n $ADMIN_SSH_KEY ]] && values[PUBKEY_SSH_FIRST_USER]=$ADMIN_SSH_KEY
    [[ -n $WPA_COUNTRY ]] && values[WPA_COUNTRY]=$WPA_COUNTRY
    [[ -n $APT_PROXY ]] && values[APT_PROXY]=$APT_PROXY
    [[ -n $WORK_DIR ]] && values[WORK_DIR]=$WORK_DIR
    [[ -n $DEPLOY_DIR ]] && values[DEPLOY_DIR]=$DEPLOY_DIR
    {
        echo "# pi-gen config rendered by image-build/build.sh; pi-gen's build.sh -c sources it."
        for name in $(printf '%s\n' "${!values[@]}" | sort); do
            printf 'export %s=%q\n' "$name" "${values[$name]}"
        done
    } >"$out"
    chmod 0600 "$out"  # it may hold a password
}

# Render the stage and pi-gen's config into $1: $1/config and $1/stage-anthias/.
render() {
    local out=$1 wheel=$2 stage sub
    stage=$out/stage-anthias
    sub=$stage/00-anthias
    rm -rf "$stage"
    install -d -m 0755 "$out" "$stage"
    cp -r --preserve=mode "$here/stage-anthias/." "$stage/"
    install -d -m 0755 "$sub/files/rootfs" "$sub/files/install/wheelhouse"
    install -m 0644 "$wheel" "$sub/files/install/wheelhouse/"
    install -m 0755 "$here/files/install-release.sh" "$sub/files/install/"
    install -d -m 0755 "$sub/files/rootfs/usr/local/sbin"
    install -m 0755 "$here/files/anthias-firstboot.sh" "$sub/files/rootfs/usr/local/sbin/anthias-firstboot"
    # The image's drop-in: its first-boot unit runs that script (the card's file set).
    install -d -m 0755 "$sub/files/rootfs/etc/systemd/system/anthias-firstboot.service.d"
    install -m 0644 "$here/files/anthias-firstboot.service.d/50-image.conf" \
        "$sub/files/rootfs/etc/systemd/system/anthias-firstboot.service.d/"
    render_units "$sub/files/rootfs" "$sub/files/install"
    render_boot_files "$sub/files/rootfs/boot/firmware"
    render_pi_gen_config "$out/config" "$(cd "$stage" && pwd)"
}

# --- pi-gen -------------------------------------------------------------------------------

fetch_pi_gen() {
    local dir
    dir=$(pi_gen_dir)
    if [[ ! -f $dir/build.sh ]]; then
        echo "== Downloading pi-gen $PI_GEN_TAG into $dir"
        install -d "$(dirname "$dir")"
        git clone --quiet --depth 1 --branch "$PI_GEN_TAG" "$PI_GEN_REPO" "$dir"
    fi
    # pi-gen exports every stage that has an EXPORT_IMAGE file unless SKIP_IMAGES is there.
    if [[ $EXPORT_LITE_IMAGE == 1 ]]; then
        rm -f "$dir/stage2/SKIP_IMAGES"
    else
        touch "$dir/stage2/SKIP_IMAGES"
    fi
}

build_image() {
    local out wheel
    check_host || exit 1
    check_config
    fetch_pi_gen
    out=$cache/render
    install -d -m 0700 "$out"
    rm -rf "$out/wheels"
    install -d "$out/wheels"
    echo "== Building the Anthias Edge wheel"
    wheel=$(build_wheel "$out/wheels")
    render "$out" "$wheel"
    echo "== Downloading its dependencies for arm64"
    download_dependencies "$wheel" "$out/stage-anthias/00-anthias/files/install/wheelhouse"
    echo "== Running pi-gen (this takes an hour or more)"
    (cd "$(pi_gen_dir)" && ./build.sh -c "$out/config")
    echo "== Done: the image is in ${DEPLOY_DIR:-$(pi_gen_dir)/deploy}"
}

main() {
    local config="" mode=build out="" wheels wheel dependencies=0
    while (($#)); do
        case $1 in
            -c | --config) config=${2:?-c needs a file}; shift 2 ;;
            --check) mode=check; shift ;;
            --dry-run) mode=dry-run; out=${2:?--dry-run needs an output folder}; shift 2 ;;
            --with-dependencies) dependencies=1; shift ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; exit 2 ;;
        esac
    done
    load_config "$config"
    case $mode in
        check)
            check_config
            check_host
            ;;
        dry-run)
            check_config
            install -d -m 0700 "$out"
            out=$(cd "$out" && pwd)
            wheels=$(mktemp -d)
            # shellcheck disable=SC2064  # expand now
            trap "rm -rf '$wheels'" EXIT
            wheel=$(build_wheel "$wheels")
            render "$out" "$wheel"
            if ((dependencies)); then
                download_dependencies "$wheel" "$out/stage-anthias/00-anthias/files/install/wheelhouse"
                echo "Rendered the stage, with the dependencies' arm64 wheels, and pi-gen's config into $out."
            else
                echo "Rendered the stage and pi-gen's config into $out (a build also fetches the"
                echo "dependencies' arm64 wheels, as --with-dependencies does, and runs pi-gen)."
            fi
            ;;
        build) build_image ;;
    esac
}

main "$@"
