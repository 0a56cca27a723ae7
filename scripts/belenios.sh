# Shared by the benchmarks that compare with Belenios (scripts/bench-*.sh):
# source it, then call the functions below.

# belenios_install NAME: Debian's belenios-tool, installed with apt-get
# when missing (needs root or sudo). Returns 1, saying why, when it cannot
# be installed (the caller skips its comparison).
belenios_install() {
  if ! command -v belenios-tool >/dev/null; then
    echo "belenios-tool is not installed; trying apt-get install belenios-tool"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
    if ! $sudo apt-get install -y belenios-tool >/dev/null 2>&1; then
      echo "$1: could not install belenios-tool (run: sudo apt-get install belenios-tool); comparison skipped"
      return 1
    fi
  fi
  belenios-tool --version
}

# belenios_election GROUP COUNT QUESTIONS: in the current directory, a
# Belenios election in GROUP with COUNT credentials (private ones in
# private_creds.txt), one trustee, the questions template QUESTIONS (JSON)
# and an initialised archive ready for ballots.
belenios_election() {
  local group=$1 count=$2 questions=$3 uuid
  export BELENIOS_USE_URANDOM=1
  uuid=$(belenios-tool setup generate-token)
  belenios-tool setup generate-credentials --uuid "$uuid" --group "$group" --count "$count" >/dev/null
  mv ./*.pubcreds public_creds.json
  mv ./*.privcreds private_creds.txt
  belenios-tool setup generate-trustee-key --group "$group" >/dev/null 2>&1
  cat ./*.pubkey > public_keys.jsons
  belenios-tool setup make-trustees
  rm public_keys.jsons
  echo "$questions" > questions.json
  belenios-tool setup make-election --uuid "$uuid" --group "$group" --template questions.json
  belenios-tool archive init 2>/dev/null
  rm -f election.json trustees.json public_creds.json
}
