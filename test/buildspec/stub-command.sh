#!/usr/bin/env bash
# Stands in for aws, curl, docker, npm, npx, sha256sum, tar, terraform, trivy and unzip when the buildspec tests
# run buildspec.yml: logs "<name> <args>" to $STUB_LOG and fakes just enough output for the next command.
# STUB_TRIVY_IMAGE_EXIT / STUB_TRIVY_FS_EXIT make a scan fail, STUB_TRIVY_REPORT is the JSON report it writes; $STUB_STATE/pushed marks a pushed image;
# STUB_TERRAFORM_PLAN_EXIT is plan's -detailed-exitcode (default 2, changes); `aws s3 cp` reads and writes
# s3://<bucket>/<key> as $STUB_S3_DIR/<bucket>/<key>, and fails like the CLI when the object is not there
# (STUB_S3_PUT_EXIT makes every upload fail). `npx tsx scripts/<name>.ts` runs the repository's real script when
# STUB_REAL_SCRIPTS is set (the source directory is then a real git repository), else only logs.
# `aws ecr describe-images --query …imagePushedAt…` lists $STUB_PREVIOUS_TAGS (tab-separated, newest first).
name="$(basename "$0")"
printf '%s %s\n' "$name" "$*" >> "$STUB_LOG"
args=" $* "
case "$name" in
  curl)
    file="$(basename "${@: -1}")"
    for asset in "trivy_${TRIVY_VERSION}_Linux-64bit.tar.gz" "trivy_${TRIVY_VERSION}_Linux-ARM64.tar.gz" \
      "terraform_${TERRAFORM_VERSION}_linux_amd64.zip" "terraform_${TERRAFORM_VERSION}_linux_arm64.zip"; do
      printf '0000  %s\n' "$asset"
    done > "$file" ;;
  sha256sum)
    # Checking a download is faked; hashing a file of the source tree is real.
    [ "$1" = --check ] && { cat > /dev/null; exit 0; }
    exec /usr/bin/sha256sum "$@" ;;
  tar)
    # `tar -xzf <asset> -C <dir> trivy`: "extracts" this stub as the trivy binary, as the real archive holds it.
    prev=""
    for a in "$@"; do [ "$prev" = -C ] && [ -n "${STUB_SELF:-}" ] && cp "$STUB_SELF" "$a/trivy" && chmod +x "$a/trivy"; prev="$a"; done ;;
  unzip)
    # `unzip <zip> -d <dir>`: "extracts" this stub as the terraform binary, as the real archive holds it.
    prev=""
    for a in "$@"; do [ "$prev" = -d ] && [ -n "${STUB_SELF:-}" ] && cp "$STUB_SELF" "$a/terraform" && chmod +x "$a/terraform"; prev="$a"; done ;;
  npx)
    if [ "$1" = tsx ] && [ -n "${STUB_REAL_SCRIPTS:-}" ]; then
      script="$2"; shift 2
      exec "${STUB_REPO_ROOT}/node_modules/.bin/tsx" "${STUB_REPO_ROOT}/${script}" "$@"
    fi ;;
  docker)
    [ "$1" = login ] && cat > /dev/null
    [ "$1" = push ] && touch "$STUB_STATE/pushed"
    true ;;
  trivy)
    prev=""
    report='{"Results":[]}'; [ -n "${STUB_TRIVY_REPORT:-}" ] && report="$STUB_TRIVY_REPORT"
    for a in "$@"; do [ "$prev" = --output ] && printf '%s\n' "$report" > "$a"; prev="$a"; done
    case "$1" in
      image) exit "${STUB_TRIVY_IMAGE_EXIT:-0}" ;;
      fs) exit "${STUB_TRIVY_FS_EXIT:-0}" ;;
    esac ;;
  terraform)
    for a in "$@"; do case "$a" in -out=*) echo plan > "${a#-out=}" ;; esac; done
    case "$1" in
      show) echo '{"planned_values":{}}' ;;
      output) echo '{}' ;;
      plan) exit "${STUB_TERRAFORM_PLAN_EXIT:-2}" ;;
    esac ;;
  aws)
    case "$args" in
      *" s3 cp "*)
        from="${@: -2:1}" to="${@: -1}"
        case "$from" in s3://*) from="${STUB_S3_DIR}/${from#s3://}" ;; esac
        case "$to" in s3://*)
          [ -n "${STUB_S3_PUT_EXIT:-}" ] && { echo "upload failed: An error occurred (AccessDenied)" >&2; exit "$STUB_S3_PUT_EXIT"; }
          to="${STUB_S3_DIR}/${to#s3://}"; mkdir -p "$(dirname "$to")" ;;
        esac
        [ -f "$from" ] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Not Found" >&2; exit 1; }
        cp "$from" "$to" ;;
      *" ecr describe-images "*imagePushedAt*)
        printf '%s\n' "${STUB_PREVIOUS_TAGS:-}" ;;
      *" ecr describe-images "*)
        [ -f "$STUB_STATE/pushed" ] || exit 254
        case "$args" in *imageDigest*) echo "$STUB_PUSHED_DIGEST" ;; esac ;;
      *" ecr get-login-password "*) echo password ;;
      *TerraformStateBucketName*) echo stack-state-bucket ;;
      *TerraformLockTableName*) echo stack-lock-table ;;
    esac ;;
esac
exit 0
