#!/usr/bin/env bash
# Submits a sharded snowfunnel run on AWS Batch: an array job of SHARDS children, each counting
# its share of the inputs into one state file, then a merge job that depends on the array job.
# A dependency on an array job waits for every child to succeed; if any child fails (after its
# retries), the merge job fails without running, so no report is written from missing shards.
#
# Register the job definitions once (and again after editing them):
#   aws batch register-job-definition --cli-input-json file://job-definition.json
#   aws batch register-job-definition --cli-input-json file://merge-job-definition.json
#
# Then, for example:
#   QUEUE=snowfunnel BUCKET=example-snowplow-bucket RUN_ID=2026-03 SHARDS=8 \
#     INPUT=s3://example-snowplow-bucket/enriched/2026/03/ ./submit.sh
#
# Required: QUEUE (job queue), BUCKET, RUN_ID (letters, digits, - and _), SHARDS (2 to 10000,
# Batch's array size limits; for one machine, run `snowfunnel run` without sharding).
# Optional: INPUT (default s3://BUCKET/enriched/), MAP_DEFINITION (default snowfunnel-map),
# MERGE_DEFINITION (default snowfunnel-merge), OVERWRITE=1 to reuse a RUN_ID that already has
# states, DRY_RUN=1 to print the aws commands instead of running them. The AWS CLI takes its
# region and credentials from its usual environment and profile.
#
# Outputs, under s3://BUCKET/snowfunnel/runs/RUN_ID/: states/shard-<index>.snowfunnel (one per
# child) and merged.snowfunnel; reports under s3://BUCKET/snowfunnel/reports/RUN_ID/.
set -euo pipefail

die() {
  printf 'submit.sh: %s\n' "$1" >&2
  exit 2
}

[[ -n "${QUEUE:-}" ]] || die "set QUEUE to the AWS Batch job queue"
[[ -n "${BUCKET:-}" ]] || die "set BUCKET to the S3 bucket that holds the inputs and gets the outputs"
[[ -n "${RUN_ID:-}" ]] || die "set RUN_ID to a name for this run (it names the S3 prefix and the jobs)"
[[ -n "${SHARDS:-}" ]] || die "set SHARDS to the number of shards (the array size)"
INPUT="${INPUT:-s3://${BUCKET}/enriched/}"
MAP_DEFINITION="${MAP_DEFINITION:-snowfunnel-map}"
MERGE_DEFINITION="${MERGE_DEFINITION:-snowfunnel-merge}"
OVERWRITE="${OVERWRITE:-0}"
DRY_RUN="${DRY_RUN:-0}"

if ! [[ "$SHARDS" =~ ^[0-9]{1,5}$ ]] || ((10#$SHARDS < 2 || 10#$SHARDS > 10000)); then
  die "SHARDS must be a whole number from 2 to 10000, not '$SHARDS'"
fi
SHARDS=$((10#$SHARDS))
# Job names allow letters, digits, - and _ (up to 128 characters).
[[ "$RUN_ID" =~ ^[A-Za-z0-9_-]{1,100}$ ]] \
  || die "RUN_ID may hold only letters, digits, - and _ (up to 100), not '$RUN_ID'"
[[ "$BUCKET" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "BUCKET is not a bucket name: '$BUCKET'"
# The values go into JSON below: no quotes or backslashes.
[[ "$INPUT" == s3://* && "$INPUT" != *[\"\\]* ]] || die "INPUT must be an s3:// URL, not '$INPUT'"

aws_cmd() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '+ aws' >&2
    printf ' %q' "$@" >&2
    printf '\n' >&2
    printf 'dry-run-job-id\n'
  else
    aws "$@"
  fi
}

if [[ "$DRY_RUN" != 1 ]]; then
  command -v aws >/dev/null || die "the AWS CLI (aws) is not on PATH"
fi

run_prefix="snowfunnel/runs/${RUN_ID}"
states="s3://${BUCKET}/${run_prefix}/states/"

# States left by an earlier run with this RUN_ID: with the same SHARDS, each child rewrites its own
# file (shards are idempotent); with another SHARDS, old files would stay beside the new ones and
# the merge would fail on inputs counted twice. Refuse unless asked.
if [[ "$OVERWRITE" != 1 && "$DRY_RUN" != 1 ]]; then
  existing=$(aws s3api list-objects-v2 --bucket "$BUCKET" --prefix "${run_prefix}/states/" \
    --max-items 1 --query 'Contents[].Key' --output text)
  if [[ -n "$existing" && "$existing" != None ]]; then
    die "${states} already holds states; choose another RUN_ID, delete them (aws s3 rm --recursive ${states}), or set OVERWRITE=1 to rerun with the same SHARDS"
  fi
fi

# Batch substitutes whole command arguments (Ref::name), so the URLs are built here.
# {shard} is snowfunnel's placeholder, replaced in each child by its AWS_BATCH_JOB_ARRAY_INDEX.
map_parameters=$(printf '{"shard_count":"%s","state_out":"%s","input":"%s"}' \
  "$SHARDS" "s3://${BUCKET}/${run_prefix}/states/shard-{shard}.snowfunnel" "$INPUT")
merge_parameters=$(printf '{"states":"%s","out":"%s","merged_state":"%s"}' \
  "$states" "s3://${BUCKET}/snowfunnel/reports/${RUN_ID}/" "s3://${BUCKET}/${run_prefix}/merged.snowfunnel")

map_id=$(aws_cmd batch submit-job \
  --job-name "snowfunnel-map-${RUN_ID}" \
  --job-queue "$QUEUE" \
  --job-definition "$MAP_DEFINITION" \
  --array-properties "size=${SHARDS}" \
  --parameters "$map_parameters" \
  --query jobId --output text)
[[ -n "$map_id" ]] || die "submit-job returned no job id for the array job"

merge_id=$(aws_cmd batch submit-job \
  --job-name "snowfunnel-merge-${RUN_ID}" \
  --job-queue "$QUEUE" \
  --job-definition "$MERGE_DEFINITION" \
  --depends-on "jobId=${map_id}" \
  --parameters "$merge_parameters" \
  --query jobId --output text)
[[ -n "$merge_id" ]] || die "submit-job returned no job id for the merge job"

printf 'array job %s (%s shards) -> %s\n' "$map_id" "$SHARDS" "$states"
printf 'merge job %s -> s3://%s/snowfunnel/reports/%s/\n' "$merge_id" "$BUCKET" "$RUN_ID"
printf 'follow: aws batch describe-jobs --jobs %s %s --query "jobs[].[jobName,status,statusReason]"\n' \
  "$map_id" "$merge_id"
