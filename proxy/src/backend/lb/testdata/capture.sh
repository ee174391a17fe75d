#!/bin/bash
# Captures the server choices Debian's haproxy 2.6 makes for the balancing tests in lb/*.rs.
# Runs one haproxy with tiny responders (s1..s4 answer their own name) and one `listen` per
# test case, drives it with curl (sequential requests, chosen URIs/headers/source addresses)
# and prints one line per request: `CASE KEY SERVER`. The Rust tests hold these as constants.
# Usage: bash capture.sh > expected.txt   (needs /usr/sbin/haproxy and curl; loopback only)
set -euo pipefail
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
dir=$(mktemp -d)
trap 'kill $(cat "$dir/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$dir"' EXIT
cfg=$dir/haproxy.cfg

srv() { # srv NAME... with extra params after ':' e.g. s1:"weight 3"
  for s in "$@"; do
    name=${s%%:*}; params=""; [[ $s == *:* ]] && params=${s#*:}
    echo "  server $name 127.0.0.1:1900${name#s} $params"
  done
}
port=18000
declare -A PORT
case_() { # case_ NAME BALANCE HASHTYPE OPTIONS SERVERS...
  local name=$1 bal=$2 ht=$3 opts=$4; shift 4
  port=$((port+1)); PORT[$name]=$port
  {
    echo "listen $name"
    echo "  bind 127.0.0.1:$port"
    echo "  balance $bal"
    [[ -n $ht ]] && echo "  hash-type $ht"
    [[ -n $opts ]] && echo "  $opts"
    srv "$@"
  } >>"$cfg"
}

cat >"$cfg" <<CFG
global
  nbthread 1
  pidfile $dir/pid
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  option httpclose
CFG
for i in 1 2 3 4; do
  printf 'listen s%s\n  bind 127.0.0.1:1900%s\n  http-request return status 200 content-type text/plain string s%s\n' $i $i $i >>"$cfg"
done

W321=(s1:"weight 3" s2:"weight 2" s3:"weight 1")
case_ rr321 roundrobin "" "" "${W321[@]}"
case_ rr5311 roundrobin "" "" s1:"weight 5" s2:"weight 3" s3:"weight 1" s4:"weight 1"
case_ rrw0 roundrobin "" "" s1 s2:"weight 0" s3
case_ rrbackup roundrobin "" "" s1:"disabled" s2:"backup" s3:"backup"
case_ rrallbackups roundrobin "" "option allbackups" s1:"disabled" s2:"backup" s3:"backup"
case_ rrmaint roundrobin "" "" s1 s2:"disabled" s3 s4
case_ rr7521 roundrobin "" "" s1:"weight 7" s2:"weight 5" s3:"weight 2" s4:"weight 1"
case_ rr101 roundrobin "" "" s1:"weight 10" s2:"weight 1"
case_ rr222 roundrobin "" "" s1:"weight 2" s2:"weight 2" s3:"weight 2"
case_ staticrr321 static-rr "" "" "${W321[@]}"
case_ staticrr4263 static-rr "" "" s1:"weight 4" s2:"weight 2" s3:"weight 6" s4:"weight 3"
case_ leastconn4 leastconn "" "" s1 s2 s3 s4
case_ leastconn321 leastconn "" "" "${W321[@]}"
case_ first3 first "" "" s1:"maxconn 1" s2:"maxconn 1" s3:"maxconn 1"
case_ first3dis first "" "" s1:"maxconn 1 disabled" s2:"maxconn 1" s3:"maxconn 1"
case_ source4 source "" "" s1 s2 s3 s4
case_ source321 source "" "" "${W321[@]}"
case_ sourcecons source consistent "" s1 s2 s3 s4
case_ source246 source "" "" s1:"weight 2" s2:"weight 4" s3:"weight 6"
case_ sourcew0 source "" "" s1 s2:"weight 0" s3 s4
case_ uri4 uri "" "" s1 s2 s3 s4
case_ uri321 uri "" "" "${W321[@]}"
case_ uricons uri consistent "" s1 s2 s3 s4
case_ uricons321 uri consistent "" "${W321[@]}"
case_ urilen "uri len 5" "" "" s1 s2 s3 s4
case_ uridepth "uri depth 2" "" "" s1 s2 s3 s4
case_ uriwhole "uri whole" "" "" s1 s2 s3 s4
case_ uripathonly "uri path-only" "" "" s1 s2 s3 s4
case_ uridjb2 uri "map-based djb2" "" s1 s2 s3 s4
case_ uriwt6 uri "map-based wt6" "" s1 s2 s3 s4
case_ uricrc32 uri "map-based crc32" "" s1 s2 s3 s4
case_ urisdbmaval uri "map-based sdbm avalanche" "" s1 s2 s3 s4
case_ uriconsdjb2aval uri "consistent djb2 avalanche" "" s1 s2 s3 s4
case_ urlparam "url_param id" "" "" s1 s2 s3 s4
case_ urlparamcons "url_param id" consistent "" s1 s2 s3 s4
case_ hdrhost "hdr(host) use_domain_only" "" "" s1 s2 s3 s4
case_ hdrxuser "hdr(x-user)" "" "" s1 s2 s3 s4

"$HAPROXY" -c -f "$cfg" >&2
"$HAPROXY" -D -f "$cfg"
sleep 0.5

get() { # get CASE KEY CURL-ARGS...
  local c=$1 key=$2; shift 2
  local r
  r=$(curl -s --max-time 3 "$@" ) || r=ERR
  echo "$c $key $r"
}
seq_() { # seq_ CASE N: N plain requests in a row
  for i in $(seq 1 "$2"); do get "$1" "$i" "http://127.0.0.1:${PORT[$1]}/"; done
}
seq_ rr321 24
seq_ rr5311 20
seq_ rrw0 8
seq_ rrbackup 6
seq_ rrallbackups 6
seq_ rrmaint 6
seq_ rr7521 30
seq_ rr101 22
seq_ rr222 9
seq_ staticrr321 12
seq_ staticrr4263 15
seq_ leastconn4 8
seq_ leastconn321 12
seq_ first3 3
seq_ first3dis 3
for c in source4 source321 sourcecons source246 sourcew0; do
  for i in $(seq 1 24); do get $c 127.0.0.$i "http://127.0.0.1:${PORT[$c]}/" --interface 127.0.0.$i; done
done
URIS=(/ /a /b /c /index.html /img/logo.png /api/v1/users /api/v2/users /api/v1/orders/42
      "/search?q=rust" "/search?q=haproxy" /static/css/site.css /x/y/z /x/y/w /foo /bar /baz
      /qux /alpha/beta/gamma "/p?id=1" "/p?id=2" /long/path/with/many/segments/here /0 /1 /2 /3)
for c in uri4 uri321 uricons uricons321 urilen uridepth uriwhole uridjb2 uriwt6 uricrc32 urisdbmaval uriconsdjb2aval; do
  for u in "${URIS[@]}"; do get $c "$u" "http://127.0.0.1:${PORT[$c]}$u"; done
done
# path-only: absolute-form targets differing only by authority must hash the same.
for u in /a /b /api/v1/users "/search?q=rust"; do
  get uripathonly "$u" "http://127.0.0.1:${PORT[uripathonly]}$u"
  get uripathonly "http://h1.example$u" "http://127.0.0.1:${PORT[uripathonly]}" --request-target "http://h1.example$u" -H "Host: h1.example"
  get uripathonly "http://h2.example.org$u" "http://127.0.0.1:${PORT[uripathonly]}" --request-target "http://h2.example.org$u" -H "Host: h2.example.org"
done
for v in 1 2 3 4 5 6 7 8 9 10 abc user42 "x y"; do
  enc=${v// /%20}
  get urlparam "id=$enc" "http://127.0.0.1:${PORT[urlparam]}/?id=$enc"
  get urlparam "a=1&id=$enc" "http://127.0.0.1:${PORT[urlparam]}/page?a=1&id=$enc"
done
# no parameter: round robin fallback (map order)
for i in 1 2 3 4 5; do get urlparam "none$i" "http://127.0.0.1:${PORT[urlparam]}/page?x=1"; done
# consistent hashing: the same values, then the fallback walking the ring point by point
for v in 1 2 3 4 5 6 7 8 9 10 abc user42; do
  get urlparamcons "id=$v" "http://127.0.0.1:${PORT[urlparamcons]}/?id=$v"
done
for i in $(seq 1 24); do get urlparamcons "none$i" "http://127.0.0.1:${PORT[urlparamcons]}/page?x=1"; done
for h in www.example.com example.com www.example.com:8080 api.example.com foo.bar a b c site.org www.site.org sub.site.org:443 localhost 10.0.0.1; do
  get hdrhost "$h" "http://127.0.0.1:${PORT[hdrhost]}/" -H "Host: $h"
done
for v in alice bob carol dave eve mallory trent 1 2 3; do
  get hdrxuser "$v" "http://127.0.0.1:${PORT[hdrxuser]}/" -H "X-User: $v"
done
for i in 1 2 3 4 5 6; do get hdrxuser "none$i" "http://127.0.0.1:${PORT[hdrxuser]}/"; done
