//! Expression-level tests: every fetch and converter through `SampleExpr` on a `FakeCtx`.
//! Expected values were captured from haproxy 2.6.12 (`http-request return ... lf-string
//! "%[expr]"`) unless the comment says otherwise.

use super::*;
use crate::sample::varstore::VarScope;

fn ctx() -> FakeCtx {
    let c = FakeCtx::request("GET", "/p?a=1&b=x+y&b=2;e&z")
        .hdr("x-a", "1, 2")
        .hdr("x-a", "\"3,4\",5")
        .hdr("cookie", "c=1; d=2")
        .hdr("cookie", "c=3")
        .hdr("x-ip", "10.1.2.3:80")
        .hdr("x-n", "42abc")
        .hdr("host", "ex.com");
    c.set_var(VarScope::Txn, "a", Sample::str("abc"));
    c.set_var(VarScope::Txn, "n", Sample::Sint(10));
    c.set_var(VarScope::Txn, "k", Sample::str("c2VjcmV0"));
    c
}

fn text(expr: &str, c: &FakeCtx) -> Option<String> {
    let e = SampleExpr::parse(expr).unwrap_or_else(|err| panic!("{expr}: {err}"));
    e.eval(c)
        .map(|s| String::from_utf8_lossy(&s.to_text()).into_owned())
}

/// (expression, what haproxy printed; "" also covers "no sample" since %[] prints nothing)
const CAPTURED: &[(&str, &str)] = &[
    ("str(a|b|c),field(2,|)", "b"),
    ("str(a|b|c),field(-1,|)", "c"),
    ("str(a|b|c),field(5,|)", ""),
    ("str(a|b|c|d),field(2,|,2)", "b|c"),
    ("str(a|b|c|d),field(2,|,0)", "b|c|d"),
    ("str(a|b|c|d),field(-2,|,2)", "b|c"),
    ("str(/a//b/c),word(2,/)", "b"),
    ("str(/a//b/c/d),word(1,/,2)", "a//b"),
    ("str(aXbXc),regsub(X,-)", "a-bXc"),
    ("str(aXbXc),regsub(X,-,g)", "a-b-c"),
    ("str(abcb),regsub(\"(b)\",[\\1],g)", "a[b]c[b]"),
    ("str(abc),regsub(x*,-,g)", "-a-b-c-"),
    ("str(ABC),regsub(b,-,ig)", "A-C"),
    ("bin(6122625c0163c3a92f),json", "a\\\"b\\\\\\u0001c\\u00c3\\u00a9\\/"),
    ("bin(6122625c0163c3a92f),json(utf8s)", "a\\\"b\\\\\\u0001c\\u00e9\\/"),
    ("bin(61ff62),json(utf8)", ""),
    ("bin(61ff62),json(utf8s)", "ab"),
    ("int(0),http_date", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ("int(1700000000),http_date(3600)", "Tue, 14 Nov 2023 23:13:20 GMT"),
    ("int(1700000000123),http_date(0,ms)", "Tue, 14 Nov 2023 22:13:20.123 GMT"),
    ("int(1700000000123),http_date(1000,ms)", "Tue, 14 Nov 2023 22:13:21.123 GMT"),
    ("int(1700000000123456),http_date(0,us)", "Tue, 14 Nov 2023 22:13:20.123456 GMT"),
    ("int(1700000000),ltime(%Y,3600)", "2023"),
    ("int(1700000000),utime(%H,3600)", "23"),
    ("int(1700000000),utime(%Y-%m-%d %H:%M:%S)", "2023-11-14 22:13:20"),
    ("int(1700000000),utime(%a %d/%b,60)", "Tue 14/Nov"),
    ("ipv4(192.168.1.77),ipmask(24)", "192.168.1.0"),
    ("ipv4(192.168.1.77),ipmask(255.255.0.0)", "192.168.0.0"),
    ("ipv6(2001:db8:aaaa::1234),ipmask(24,40)", "2001:db8:aa00::"),
    ("ipv6(::ffff:1.2.3.4),ipmask(24)", "1.2.3.0"),
    ("str(1.2.3.4),ipmask(8)", "1.0.0.0"),
    ("int(16909060),ipmask(32)", "1.2.3.4"),
    ("str(a%20b+c%2),url_dec", ""),
    ("str(a%41%zz),url_dec", ""),
    ("str(/p?a=b+c),url_dec", "/p?a=b c"),
    ("str(a b&c=d/é~_.-*),url_enc", "a%20b%26c%3Dd%2F%C3%A9~_.-%2A"),
    ("str(abd),strcmp(txn.a)", "1"),
    ("str(abc),strcmp(txn.a)", "0"),
    ("str(ab),strcmp(txn.a)", "-1"),
    ("str(abcd),strcmp(txn.a)", "1"),
    ("str(abc),secure_memcmp(txn.a)", "1"),
    ("str(abd),secure_memcmp(txn.a)", "0"),
    ("str(hello),crc32", "907060870"),
    ("str(hello),crc32(1)", "3902247103"),
    ("str(hello),djb2", "261238937"),
    ("str(hello),djb2(1)", "1119739105"),
    ("str(hello),sdbm", "684824882"),
    ("str(hello),sdbm(1)", "2061535398"),
    ("str(hello),wt6", "3538347703"),
    ("str(hello),wt6(1)", "140457739"),
    ("str(hello),xxh3", "-7685981735718036227"),
    ("str(hello),xxh3(1)", "8408359951548325522"),
    ("str(hello),xxh32", "4211111929"),
    ("str(hello),xxh32(1)", "4244634537"),
    ("str(hello),xxh64", "2794345569481354659"),
    ("str(hello),xxh64(1)", "2584346877953614258"),
    ("str(hello),sha1,hex", "AAF4C61DDCC5E8A2DABEDE0F3B482CD9AEA9434D"),
    ("str(hello),sha2,hex", "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"),
    ("str(hello),sha2(224),hex", "EA09AE9CC6768C50FCEE903ED054556E5BFC8347907F12598AA24193"),
    ("str(hello),sha2(512),hex", "9B71D224BD62F3785D96D46AD3EA3D73319BFBC2890CAADAE2DFF72519673CA72323C3D99BA5C11D7C7ACC6E14B8C5DA0C4663475C2E5C3ADEF46F73BCDEC043"),
    ("str(hello),digest(md5),hex", "5D41402ABC4B2A76B9719D911017C592"),
    ("str(hello),digest(sha256),hex", "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"),
    ("str(hello),hmac(sha256,c2VjcmV0),hex", "88AAB3EDE8D3ADF94D26AB90D3BAFD4A2083070C3BCCE9C014EE04A443847C0B"),
    ("str(hello),hmac(sha256,txn.k),hex", "88AAB3EDE8D3ADF94D26AB90D3BAFD4A2083070C3BCCE9C014EE04A443847C0B"),
    ("str(hello),base64", "aGVsbG8="),
    ("str(aGVsbG8=),b64dec", "hello"),
    ("str(aGVsbG8),b64dec", ""),
    ("str(ff),hex2i", "255"),
    ("str(-1a),hex2i", ""),
    ("bin(01020304),be2dec(-,2)", "258-772"),
    ("bin(0102030405),be2dec(-,2,1)", "258-772"),
    ("bin(0102030405),be2hex(:,2)", "0102:0304:05"),
    ("bin(0102030405),be2hex", "0102030405"),
    ("bin(0102030405),be2hex(:,2,1)", "0102:0304"),
    ("int(5),div(0)", "9223372036854775807"),
    ("int(5),mod(0)", "0"),
    ("int(-7),div(2)", "-3"),
    ("int(-7),mod(2)", "-1"),
    ("int(9223372036854775807),add(1)", "9223372036854775807"),
    ("int(-9223372036854775807),sub(5)", "-9223372036854775808"),
    ("int(4611686018427387904),mul(4)", "9223372036854775807"),
    ("int(4611686018427387904),mul(-4)", "-9223372036854775808"),
    ("int(5),neg", "-5"),
    ("int(5),not", "0"),
    ("int(0),not", "1"),
    ("int(5),bool", "1"),
    ("int(5),odd", "1"),
    ("int(5),even", "0"),
    ("int(6),and(3)", "2"),
    ("int(6),or(3)", "7"),
    ("int(6),xor(3)", "5"),
    ("str(12abc),add(1)", "13"),
    ("ipv4(1.2.3.4),add(0)", "16909060"),
    ("int(3),add(txn.n)", "13"),
    ("int(3),sub(txn.nope)", ""),
    ("bool(1)", "1"),
    ("int(1),hex", "0000000000000001"),
    ("str(héllo),length", "6"),
    ("str(hello),bytes(1,2)", "el"),
    ("str(hello),bytes(2)", "llo"),
    ("str(hello),bytes(9)", ""),
    ("str(a),concat(<,txn.a,>)", "a<abc>"),
    ("str(a),concat(<,txn.nope,>)", "a<>"),
    ("bool(1),iif(y,n)", "y"),
    ("int(0),iif(y,n)", "n"),
    ("str('{\"a\":{\"b\":[1,2],\"c\":\"x\",\"d\":3,\"e\":true,\"f\":1.5}}'),json_query('$.a.c')", "x"),
    ("str('{\"a\":{\"b\":[1,2],\"c\":\"x\",\"d\":3,\"e\":true,\"f\":1.5}}'),json_query('$.a.d','int')", "3"),
    ("str('{\"a\":{\"b\":[1,2],\"c\":\"x\",\"d\":3,\"e\":true,\"f\":1.5}}'),json_query('$.a.e')", "1"),
    ("str('{\"a\":{\"b\":[1,2],\"c\":\"x\",\"d\":3,\"e\":true,\"f\":1.5}}'),json_query('$.a.f')", "1.5"),
    ("str('{\"a\":{\"b\":[1,2],\"c\":\"x\",\"d\":3,\"e\":true,\"f\":1.5}}'),json_query('$.a.b')", ""),
    ("str('{\"a\":{\"b\":[1,2],\"c\":\"x\",\"d\":3,\"e\":true,\"f\":1.5}}'),json_query('$.a.b[1]')", "2"),
    ("str(HeLLo),lower", "hello"),
    ("str(HeLLo),upper", "HELLO"),
    ("str(a),json(ascii)", "a"),
    ("str(xxaxbxx),ltrim(x)", "axbxx"),
    ("str(xxaxbxx),rtrim(x)", "xxaxb"),
    ("str(  ab  ),ltrim( )", "ab  "),
    ("str(axyb),rtrim(yb)", "ax"),
    ("str(ab\r\ncd),cut_crlf", "ab"),
    ("str(ab\ncd),cut_crlf", "ab"),
    ("bin(fbff),ub64enc", "-_8"),
    ("bin(fbff),base64", "+/8="),
    ("str(-_8),ub64dec,hex", "FBFF"),
    ("str(aGVsbG8),ub64dec", "hello"),
    ("str(www.ex.com:8080),host_only", "www.ex.com"),
    ("str(www.ex.com:8080),port_only", "8080"),
    ("str([::1]:80),host_only", "[::1]"),
    ("str([::1]:80),port_only", "80"),
    ("str(h),port_only", "0"),
    ("str(h.com),host_only", "h.com"),
    ("str(abc),debug", "abc"),
    ("meth(GET)", "GET"),
    ("bin(410042),length", "1"),
    ("bin(410042),hex", "410042"),
    ("bin(410042),base64", "QQBC"),
    ("bin(00),length", "0"),
    ("str(7),set-var(txn.q)", "7"),
    ("str(a),concat(<)", "a<"),
    ("str(a b),field(2, )", "b"),
    ("str(abc),regsub(b,\\1)", "ac"),
    ("str(x),url_enc(query)", "x"),
    ("str(é),upper", "é"),
    ("method", "GET"),
    // Request fetches, same request as sent to haproxy.
    ("hdr(x-a)", "5"),
    ("hdr(x-a,1)", "1"),
    ("hdr(x-a,-2)", "\"3,4\""),
    ("req.fhdr(x-a)", "\"3,4\",5"),
    ("req.fhdr(x-a,1)", "1, 2"),
    ("hdr_cnt(x-a)", "4"),
    ("req.fhdr_cnt(x-a)", "2"),
    ("hdr(x-a,5)", ""),
    ("req.cook(c)", "3"),
    ("req.cook(d)", "2"),
    ("req.cook_cnt(c)", "2"),
    ("url_param(b)", "x+y"),
    ("url_param(z)", ""),
    ("urlp(b,;)", ""),
    ("base", "ex.com/p"),
    ("path", "/p"),
    ("query", "a=1&b=x+y&b=2;e&z"),
    ("url", "/p?a=1&b=x+y&b=2;e&z"),
    ("hdr_ip(x-ip)", "10.1.2.3"),
    ("capture.req.method", "GET"),
    ("capture.req.uri", "/p?a=1&b=x+y&b=2;e&z"),
    ("capture.req.ver", "HTTP/1.1"),
    ("str(aaa),regsub(^a,X,g)", "Xaa"),
    ("str(abab),regsub(^ab,X,g)", "Xab"),
    ("str(a1b22),regsub([0-9],#,g)", "a#b##"),
    ("bin(f09f9880),json(utf8)", ""),
    ("str(a/b/c/d),word(-2,/,2)", "b/c"),
    ("str(a/b/c/d),word(-1,/,0)", "a/b/c/d"),
    ("str(/a/b),field(1,/)", ""),
    ("str(x),concat(,txn.n)", "x10"),
    ("str(),length", "0"),
    ("str(abc),bytes(0,0)", ""),
    ("str(abc),utime(%Y)", "1970"),
    ("int(2),iif(y,n)", "y"),
    ("str(xyz),iif(y,n)", "n"),
    ("str(0),iif(y,n)", "n"),
    ("req.hdr_val(x-n)", "42"),
];

#[test]
fn captured_from_haproxy() {
    let c = ctx();
    let mut bad = Vec::new();
    for (expr, want) in CAPTURED {
        let got = text(expr, &c).unwrap_or_default();
        if got != *want {
            bad.push(format!("{expr}: got {got:?}, haproxy gives {want:?}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn connection_and_proxy_fetches() {
    let mut c = FakeCtx {
        src: Some("10.0.0.1:4321".parse().unwrap()),
        dst: Some("[::1]:80".parse().unwrap()),
        fe: Some(("fe1".into(), 1)),
        be: Some(("be1".into(), 3)),
        srv: Some(("s1".into(), 2)),
        fe_conns: 7,
        srv_conns: Some(4),
        up: vec!["be1/s1".into()],
        status: Some(404),
        payload: Some(b"\x16\x03\x01abc".to_vec()),
        req_body: Some(b"body".to_vec()),
        now: Some(1_000_123_456),
        ..Default::default()
    };
    c.backends.insert("be1".into(), (2, 9, 6, 11));
    c.backends.insert("be2".into(), (0, 1, 5, 0));
    let t = |e: &str| text(e, &c);
    assert_eq!(t("src").as_deref(), Some("10.0.0.1"));
    assert_eq!(t("fc_src").as_deref(), Some("10.0.0.1"));
    assert_eq!(t("src_port").as_deref(), Some("4321"));
    assert_eq!(t("dst").as_deref(), Some("::1"));
    assert_eq!(t("fc_dst").as_deref(), Some("::1"));
    assert_eq!(t("dst_port").as_deref(), Some("80"));
    assert_eq!(t("fe_name").as_deref(), Some("fe1"));
    assert_eq!(t("fe_id").as_deref(), Some("1"));
    assert_eq!(t("be_name").as_deref(), Some("be1"));
    assert_eq!(t("be_id").as_deref(), Some("3"));
    assert_eq!(t("srv_name").as_deref(), Some("s1"));
    assert_eq!(t("srv_id").as_deref(), Some("2"));
    assert_eq!(t("nbsrv").as_deref(), Some("2"));
    assert_eq!(t("nbsrv(be2)").as_deref(), Some("0"));
    assert_eq!(t("nbsrv(nope)"), None);
    assert_eq!(t("str(be2),nbsrv").as_deref(), Some("0"));
    assert_eq!(t("str(be1),nbsrv").as_deref(), Some("2"));
    assert_eq!(t("be_conn").as_deref(), Some("9"));
    assert_eq!(t("be_conn(be2)").as_deref(), Some("1"));
    assert_eq!(t("fe_conn").as_deref(), Some("7"));
    assert_eq!(t("srv_conn").as_deref(), Some("4"));
    assert_eq!(t("srv_is_up(be1/s1)").as_deref(), Some("1"));
    assert_eq!(t("srv_is_up(be1/s2)").as_deref(), Some("0"));
    assert_eq!(t("connslots").as_deref(), Some("11"));
    assert_eq!(t("queue").as_deref(), Some("6"));
    assert_eq!(t("avg_queue").as_deref(), Some("3"));
    assert_eq!(t("avg_queue(be2)").as_deref(), Some("5"));
    assert_eq!(t("status").as_deref(), Some("404"));
    assert_eq!(t("req.len").as_deref(), Some("6"));
    assert_eq!(t("payload(0,2),hex").as_deref(), Some("1603"));
    assert_eq!(t("payload(3,0)").as_deref(), Some("abc"));
    assert_eq!(t("payload(3,9)"), None);
    assert_eq!(t("req.body").as_deref(), Some("body"));
    assert_eq!(t("date").as_deref(), Some("1000"));
    assert_eq!(t("date(10)").as_deref(), Some("1010"));
    assert_eq!(t("date(0,ms)").as_deref(), Some("1000123"));
    assert_eq!(t("date(1000,ms)").as_deref(), Some("1001123"));
    assert_eq!(t("date(5,us)").as_deref(), Some("1000123461"));
    assert_eq!(t("always_true").as_deref(), Some("1"));
    assert_eq!(t("always_false").as_deref(), Some("0"));
    assert_eq!(t("nbproc").as_deref(), Some("1"));
    assert_eq!(t("thread").as_deref(), Some("0"));
    assert_eq!(t("path"), None, "no request");
    assert_eq!(t("method"), None);
    assert_eq!(t("http_first_req"), None);
    assert_eq!(t("req.proto_http").as_deref(), Some("0"));
    let r: i64 = t("rand(10)").unwrap().parse().unwrap();
    assert!((0..10).contains(&r));
    let u = t("uuid").unwrap();
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4");
    assert!(t("hostname").is_some());
    std::env::set_var("FULCRUM_SAMPLE_TEST_ENV", "v");
    assert_eq!(t("env(FULCRUM_SAMPLE_TEST_ENV)").as_deref(), Some("v"));
    assert_eq!(t("env(FULCRUM_SAMPLE_TEST_NOPE)"), None);
    assert_eq!(t("int(-3)").as_deref(), Some("-3"));
    assert_eq!(t("ipv4(1.2.3.4)").as_deref(), Some("1.2.3.4"));
    assert_eq!(t("ipv6(::1)").as_deref(), Some("::1"));
    assert_eq!(t("str(x)").as_deref(), Some("x"));
}

#[test]
fn response_fetches_and_http_misc() {
    let mut c = FakeCtx::request("POST", "http://h.example/a/b?x=1")
        .res_hdr("set-cookie", "sid=abc; Path=/")
        .res_hdr("set-cookie", "lang=fr")
        .res_hdr("x-r", "a, b");
    c.status = Some(200);
    c.version = Some(b"1.0".to_vec());
    let t = |e: &str| text(e, &c);
    assert_eq!(t("path").as_deref(), Some("/a/b"));
    assert_eq!(
        t("base").as_deref(),
        Some("/a/b"),
        "no Host: base is the path"
    );
    assert_eq!(t("res.cook(sid)").as_deref(), Some("abc"));
    assert_eq!(t("scook(lang)").as_deref(), Some("fr"));
    assert_eq!(
        t("res.cook_cnt").as_deref(),
        Some("3"),
        "sid, Path and lang: attributes count"
    );
    assert_eq!(t("res.hdr(x-r)").as_deref(), Some("b"));
    assert_eq!(t("res.fhdr(x-r)").as_deref(), Some("a, b"));
    assert_eq!(t("res.hdr_cnt(x-r)").as_deref(), Some("2"));
    assert_eq!(t("req.ver").as_deref(), Some("1.0"));
    assert_eq!(t("http_first_req").as_deref(), Some("1"));
    assert_eq!(t("method").as_deref(), Some("POST"));
    assert_eq!(t("req.cook(c)"), None);
    assert_eq!(t("req.hdr_cnt(nope)").as_deref(), Some("0"));
    assert_eq!(
        t("int(1700000000),ltime(%s)").as_deref(),
        Some("1700000000"),
        "captured"
    );
    assert_eq!(t("urlp_val(x)").as_deref(), Some("1"));
}

#[test]
fn more_fetches() {
    let mut c = FakeCtx::request("GET", "/")
        .hdr("cookie", "n=42")
        .res_hdr("x-fwd", "192.0.2.1, 2001:db8::1")
        .res_hdr("x-v", "7");
    c.src = Some("[2001:db8::2]:443".parse().unwrap());
    c.req_body = Some(b"abcd".to_vec());
    c.payload = Some(b"\x03\x00\x00\x20Cookie: mstshash=alice\r\n".to_vec());
    let t = |e: &str| text(e, &c);
    assert_eq!(t("req.cook_val(n)").as_deref(), Some("42"));
    assert_eq!(t("cook_val(n)").as_deref(), Some("42"));
    assert_eq!(t("res.hdr_ip(x-fwd)").as_deref(), Some("2001:db8::1"));
    assert_eq!(t("res.hdr_ip(x-fwd,1)").as_deref(), Some("192.0.2.1"));
    assert_eq!(t("res.hdr_val(x-v)").as_deref(), Some("7"));
    assert_eq!(t("req.body_len").as_deref(), Some("4"));
    assert_eq!(t("fc_src_port").as_deref(), Some("443"));
    assert_eq!(t("src").as_deref(), Some("2001:db8::2"));
    assert_eq!(t("req.rdp_cookie_cnt").as_deref(), Some("1"));
    assert_eq!(t("wait_end").as_deref(), Some("1"));
    assert_eq!(t("req.ssl_hello_type"), None);
    assert_eq!(t("ssl_fc").as_deref(), Some("0"));
    assert_eq!(t("ssl_fc_sni"), None);
    let mut tls = FakeCtx {
        payload: Some(fetch_misc::tests::client_hello("a.example")),
        ssl: Some((true, Some("b.example".into()))),
        ..Default::default()
    };
    let tt = |e: &str| text(e, &tls);
    assert_eq!(tt("req.ssl_sni").as_deref(), Some("a.example"));
    assert_eq!(tt("req_ssl_sni").as_deref(), Some("a.example"));
    assert_eq!(tt("req.ssl_hello_type").as_deref(), Some("1"));
    assert_eq!(tt("ssl_fc").as_deref(), Some("1"));
    assert_eq!(tt("ssl_fc_sni").as_deref(), Some("b.example"));
    tls.payload = Some(b"\x16\x03".to_vec());
    assert_eq!(text("req.ssl_sni", &tls), None);
    assert_eq!(t("bin(4142)").as_deref(), Some("AB"));
    assert_eq!(t("bool(false)").as_deref(), Some("0"));
    assert_eq!(t("meth(PURGE)").as_deref(), Some("PURGE"));
    // Captured from haproxy 2.6.12: no name gives nothing, hdr_cnt counts every value.
    assert_eq!(t("hdr"), None);
    assert_eq!(t("req.fhdr"), None);
    assert_eq!(t("req.hdr_cnt").as_deref(), Some("1"));
}

#[test]
fn base32_and_header_names() {
    // Captured from haproxy 2.6.12: GET /a/b?x=1 Host: ex.com from 127.0.0.1.
    let mut c = FakeCtx::request("GET", "/a/b?x=1")
        .hdr("host", "ex.com")
        .hdr("user-agent", "curl")
        .hdr("accept", "*/*");
    c.src = Some("127.0.0.1:1".parse().unwrap());
    let t = |e: &str| text(e, &c);
    assert_eq!(t("base32").as_deref(), Some("3058019441"));
    assert_eq!(t("base,sdbm(1)").as_deref(), Some("3058019441"));
    assert_eq!(t("base32+src,hex").as_deref(), Some("B645AC717F000001"));
    assert_eq!(
        t("req.hdr_names").as_deref(),
        Some("host,user-agent,accept")
    );
    assert_eq!(
        t("req.hdr_names(;)").as_deref(),
        Some("host;user-agent;accept")
    );
}

#[test]
fn proxy_references() {
    let r = |e: &str| {
        SampleExpr::parse(e)
            .unwrap()
            .proxy_refs()
            .into_iter()
            .map(|(p, s)| format!("{p}/{}", s.unwrap_or("")))
            .collect::<Vec<_>>()
    };
    assert_eq!(r("nbsrv(app)"), vec!["app/"]);
    assert_eq!(r("srv_is_up(app/s1)"), vec!["app/s1"]);
    assert_eq!(r("fe_conn(web),add(1)"), vec!["web/"]);
    assert!(r("nbsrv").is_empty());
    assert!(r("path").is_empty());
}

#[test]
fn data_needs() {
    use super::fetch::Needs;
    let n = |e: &str| SampleExpr::parse(e).unwrap().needs();
    assert_eq!(n("src"), Needs::Nothing);
    assert_eq!(n("req.hdr(host),lower"), Needs::HttpReq);
    assert_eq!(n("res.fhdr_cnt"), Needs::HttpRes);
    assert_eq!(n("status"), Needs::HttpRes);
    assert_eq!(n("req.body"), Needs::HttpReqBody);
    assert_eq!(n("req.ssl_sni"), Needs::ReqContent);
    assert_eq!(Needs::HttpRes.label(), "HTTP response headers");
}

#[test]
fn json_query_numbers_and_strings() {
    // Captured from haproxy 2.6.12 with this document in a header.
    let doc = r#"{"a":"x\"y\u00e9","n":-3,"e":1e3,"f":1.5,"o":{"k":1},"t":false,"z":null,"arr":[{"k":"v"}],"big":12345678901234567890}"#;
    let c = FakeCtx::request("GET", "/").hdr("x-j", doc);
    let q = |path: &str| {
        let e = SampleExpr::parse(&format!("req.fhdr(x-j),json_query('{path}')")).unwrap();
        e.eval(&c).map(|s| s.to_text().into_owned())
    };
    assert_eq!(q("$.a"), Some(b"x\"y\xe9".to_vec()));
    assert_eq!(q("$.n").as_deref(), Some(&b"-3"[..]));
    assert_eq!(q("$.n','int").as_deref(), Some(&b"-3"[..]));
    assert_eq!(q("$.e").as_deref(), Some(&b"1000"[..]));
    assert_eq!(q("$.f','int").as_deref(), Some(&b"1"[..]));
    assert_eq!(q("$.o"), None);
    assert_eq!(q("$.t").as_deref(), Some(&b"0"[..]));
    assert_eq!(q("$.z"), None);
    assert_eq!(q("$.arr[0].k").as_deref(), Some(&b"v"[..]));
    assert_eq!(q("$.nope"), None);
    assert_eq!(q("$.big").as_deref(), Some(&b"1.23457e+19"[..]));
    assert_eq!(q("$.big','int"), None);
}

#[test]
fn empty_cookies() {
    // Captured from haproxy 2.6.12 with "Cookie: c=" / "Cookie: c=1" / "Cookie: c".
    let t = |ck: &str, e: &str| text(e, &FakeCtx::request("GET", "/").hdr("cookie", ck));
    assert_eq!(t("c=", "req.cook(c)"), None);
    assert_eq!(t("c=", "req.cook_cnt(c)").as_deref(), Some("0"));
    assert_eq!(t("c=", "req.cook_cnt").as_deref(), Some("1"));
    assert_eq!(t("c=1", "req.cook(c)").as_deref(), Some("1"));
    assert_eq!(t("c=1", "req.cook").as_deref(), Some("1"));
    assert_eq!(t("c=1", "req.cook_cnt").as_deref(), Some("1"));
    assert_eq!(t("c", "req.cook_cnt").as_deref(), Some("0"));
    assert_eq!(t("c", "req.cook(c)"), None);
}

#[test]
fn response_cookies() {
    // Captured from haproxy 2.6.12 (http-response set-header with these fetches).
    let c = FakeCtx::default()
        .res_hdr("set-cookie", "sid=; Path=/")
        .res_hdr("set-cookie", "lang=fr; Secure")
        .res_hdr("set-cookie", "x=1, y=2")
        .res_hdr("x-r", "a, b");
    let t = |e: &str| text(e, &c);
    assert_eq!(t("res.cook(sid)").unwrap_or_default(), "");
    assert_eq!(t("res.cook(lang)").as_deref(), Some("fr"));
    assert_eq!(t("res.cook_cnt").as_deref(), Some("5"));
    assert_eq!(t("res.cook").unwrap_or_default(), "");
    assert_eq!(t("res.cook(x)").as_deref(), Some("1"));
    assert_eq!(t("res.cook(y)").as_deref(), Some("2"));
    assert_eq!(t("res.cook_cnt(sid)").as_deref(), Some("1"));
    assert_eq!(t("res.hdr(set-cookie)").as_deref(), Some("y=2"));
    let c = FakeCtx::default().res_hdr("set-cookie", "a=1; Path=/; Max-Age=3");
    assert_eq!(text("res.cook_cnt", &c).as_deref(), Some("3"));
    assert_eq!(text("res.cook", &c).as_deref(), Some("1"));
    let c = FakeCtx::default()
        .res_hdr("set-cookie", "a=1")
        .res_hdr("set-cookie", "b=2");
    assert_eq!(text("res.cook", &c).as_deref(), Some("1"));
    assert_eq!(text("res.cook_cnt", &c).as_deref(), Some("2"));
    let c = FakeCtx::request("GET", "/")
        .hdr("cookie", "a=1; b=2")
        .hdr("cookie", "a=3");
    assert_eq!(
        text("req.cook", &c).as_deref(),
        Some("1"),
        "first without a name"
    );
    assert_eq!(
        text("req.cook(a)", &c).as_deref(),
        Some("3"),
        "last with one"
    );
}

#[test]
fn variables() {
    let c = ctx();
    assert_eq!(text("var(txn.a)", &c).as_deref(), Some("abc"));
    assert_eq!(text("var(txn.zz,dflt)", &c).as_deref(), Some("dflt"));
    assert_eq!(text("var(txn.zz)", &c), None);
    assert_eq!(
        text("str(v),set-var(req.x),upper", &c).as_deref(),
        Some("V")
    );
    assert_eq!(c.var(VarScope::Req, "x"), Some(Sample::str("v")));
    assert_eq!(text("int(1),unset-var(req.x)", &c).as_deref(), Some("1"));
    assert_eq!(c.var(VarScope::Req, "x"), None);
    assert!(SampleExpr::parse("var(foo)").is_err());
}

#[test]
fn maps() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str, body: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, body).unwrap();
        f.to_str().unwrap().to_string()
    };
    let hosts = p("hosts.map", "# hosts\nex.com be1\nb.com be2\n");
    let beg = p("beg.map", "/api api\n/api/v2 v2\n");
    let ips = p("ip.map", "10.0.0.0/8 1\n10.1.0.0/16 2\n");
    let reg = p("reg.map", "^/u/([0-9]+)$ user-\\1\n");
    let dom = p("dom.map", "example.com ex\n");
    let ints = p("int.map", "1:9 small\n10: big\n");
    let codes = p("codes.map", "a 1\nb 2\n");
    let c = ctx();
    let t = |e: String| text(&e, &c);
    assert_eq!(
        t(format!("req.hdr(host),map({hosts})")).as_deref(),
        Some("be1")
    );
    assert_eq!(
        t(format!("str(zz),map({hosts},none)")).as_deref(),
        Some("none")
    );
    assert_eq!(t(format!("str(zz),map_str({hosts})")), None);
    assert_eq!(
        t(format!("str(/api/v2/x),map_beg({beg})")).as_deref(),
        Some("v2")
    );
    assert_eq!(
        t(format!("str(/api/x),map_beg({beg})")).as_deref(),
        Some("api")
    );
    assert_eq!(
        t(format!("str(10.1.2.3),map_ip_int({ips})")).as_deref(),
        Some("2")
    );
    assert_eq!(
        t(format!("str(11.1.2.3),map_ip_int({ips},0)")).as_deref(),
        Some("0")
    );
    assert_eq!(
        t(format!("str(/u/42),map_regm({reg})")).as_deref(),
        Some("user-42")
    );
    assert_eq!(
        t(format!("str(/u/42),map_reg({reg})")).as_deref(),
        Some("user-\\1")
    );
    assert_eq!(
        t(format!("str(www.example.com),map_dom({dom})")).as_deref(),
        Some("ex")
    );
    assert_eq!(
        t(format!("str(xx/api/v2),map_sub({beg})")).as_deref(),
        Some("api")
    );
    assert_eq!(
        t(format!("str(x/api),map_end({beg})")).as_deref(),
        Some("api")
    );
    assert_eq!(
        t(format!("int(12),map_int({ints})")).as_deref(),
        Some("big")
    );
    assert_eq!(
        t(format!("str(5),map_int({ints})")).as_deref(),
        Some("small")
    );
    assert_eq!(
        t(format!("str(b),map_str_int({codes}),add(1)")).as_deref(),
        Some("3")
    );
    assert_eq!(
        t(format!("str(z),map_str_int({codes},-1)")).as_deref(),
        Some("-1")
    );
    assert!(SampleExpr::parse(&format!("str(x),map_foo({hosts})")).is_err());
    assert!(SampleExpr::parse("str(x),map(/nonexistent/file.map)").is_err());
    assert!(
        SampleExpr::parse(&format!("str(x),map_str_int({hosts})")).is_err(),
        "values must be integers"
    );
}

#[test]
fn map_priorities_as_haproxy() {
    // Captured from haproxy 2.6.12 with the same files: longest prefix for beg and ip,
    // file order for sub, reg, dom, int; the first of duplicate keys.
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str, body: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, body).unwrap();
        f.to_str().unwrap().to_string()
    };
    let beg = p("beg.map", "/api api\n/api/v2 v2\n");
    let subm = p("sub.map", "b first\nab second\n");
    let reg = p("reg.map", "^/a first\n^/a/b second\n");
    let dom = p("dom.map", "example.com ex\nwww.example.com www\n");
    let ip = p("ip.map", "10.0.0.0/8 1\n10.1.0.0/16 2\n");
    let int = p("int.map", "1:10 low\n5:20 mid\n");
    let dup = p("dup.map", "x 1\nx 2\n");
    let c = ctx();
    let t = |e: String| text(&e, &c).unwrap_or_default();
    assert_eq!(t(format!("str(/api/v2/x),map_beg({beg})")), "v2");
    assert_eq!(t(format!("str(xaby),map_sub({subm})")), "first");
    assert_eq!(t(format!("str(/a/b/c),map_reg({reg})")), "first");
    assert_eq!(t(format!("str(www.example.com),map_dom({dom})")), "ex");
    assert_eq!(t(format!("str(10.1.2.3),map_ip({ip})")), "2");
    assert_eq!(t(format!("int(7),map_int({int})")), "low");
    assert_eq!(t(format!("str(x),map({dup})")), "1");
    assert_eq!(t(format!("str(/API),map_beg({beg},none)")), "none");
    assert_eq!(t(format!("str(/api/v2/x),map_end({beg},none)")), "none");
    assert_eq!(t(format!("str(/x/api/v2),map_end({beg},none)")), "v2");
}

#[test]
fn acl_iteration_sees_every_occurrence() {
    let c = ctx();
    let e = SampleExpr::parse("hdr(x-a)").unwrap();
    let mut all = Vec::new();
    e.eval_each(&c, &mut |s| {
        all.push(String::from_utf8_lossy(&s.to_text()).into_owned());
        false
    });
    assert_eq!(all, vec!["1", "2", "\"3,4\"", "5"]);
    let e = SampleExpr::parse("req.cook(c)").unwrap();
    let mut n = 0;
    e.eval_each(&c, &mut |_| {
        n += 1;
        false
    });
    assert_eq!(n, 2);
}

#[test]
fn parse_errors() {
    let err = SampleExpr::parse("pth").unwrap_err();
    assert!(
        err.contains("unknown fetch method 'pth'") && err.contains("'path'"),
        "{err}"
    );
    let err = SampleExpr::parse("path,lowr").unwrap_err();
    assert!(
        err.contains("unknown converter 'lowr'") && err.contains("'lower'"),
        "{err}"
    );
    assert!(SampleExpr::parse("path(1)")
        .unwrap_err()
        .contains("at most 0"));
    assert_eq!(text("str()", &ctx()).as_deref(), Some(""));
    assert!(SampleExpr::parse("src,lower").is_ok(), "haproxy accepts it");
    let err = SampleExpr::parse("var(foo)").unwrap_err();
    assert!(
        err.starts_with("invalid args in fetch method 'var' : invalid variable name 'foo'"),
        "{err}"
    );
    let err = SampleExpr::parse("str(a),field(0,|)").unwrap_err();
    assert_eq!(
        err,
        "invalid args in converter 'field' : Unexpected value 0 for index."
    );
    let err = SampleExpr::parse("str(a),map(/nonexist)").unwrap_err();
    assert_eq!(
        err,
        "invalid args in converter 'map' : failed to open pattern file </nonexist>."
    );
    assert!(SampleExpr::parse("int(x)").is_err());
    assert!(SampleExpr::parse("str(a),field(0,|)").is_err());
    assert!(SampleExpr::parse("str(a),regsub(\"(\",x)").is_err());
    assert!(SampleExpr::parse("str(a),add(x)").is_err());
    // haproxy 2.6 takes a bare variable name, not var(): "invalid args in converter 'add'".
    let err = SampleExpr::parse("int(1),add(var(txn.n))").unwrap_err();
    assert!(err.contains("invalid args in converter 'add'"), "{err}");
    assert!(SampleExpr::parse("str(a),sha2(100)").is_err());
    let err = SampleExpr::parse("src,iif(a,b)").unwrap_err();
    assert!(err.contains("cannot be applied"), "{err}");
    assert!(
        SampleExpr::parse("req.body,add(1)").is_err(),
        "bin cannot become an integer"
    );
    assert!(SampleExpr::parse("srv_is_up(x)").is_err());
    assert!(SampleExpr::parse("date(1,h)").is_err());
    assert!(SampleExpr::parse("").is_err());
    assert!(SampleExpr::parse("path,").is_err());
    // Never panics on odd input.
    for s in [
        "(",
        ")",
        ",,",
        "str(\"",
        "str('a",
        "a(b(c)",
        "\\",
        "str(a),bytes(-1)",
        "str(a),map()",
    ] {
        let _ = SampleExpr::parse(s);
    }
}

#[test]
fn never_panics() {
    let c = ctx();
    let args = [
        None,
        Some(""),
        Some("0"),
        Some("-1"),
        Some("9223372036854775807"),
        Some("-9223372036854775808"),
        Some("a"),
        Some("txn.a"),
        Some("1,2"),
        Some("-3,|,-9223372036854775807"),
        Some("2,|,9223372036854775807"),
        Some("((,x"),
        Some("\\"),
        Some("sha256,txn.a"),
    ];
    let inputs = [
        "str(a|b|c)",
        "int(-5)",
        "ipv4(1.2.3.4)",
        "ipv6(::1)",
        "bin(00ff)",
        "bool(1)",
        "method",
        "hdr(x-a)",
    ];
    for name in fetch::FETCH_NAMES {
        for a in &args {
            let e = match a {
                None => name.to_string(),
                Some(a) => format!("{name}({a})"),
            };
            if let Ok(x) = SampleExpr::parse(&e) {
                let _ = x.eval(&c);
                x.eval_each(&c, &mut |_| false);
            }
        }
    }
    for name in conv::CONV_NAMES {
        for a in &args {
            for i in inputs {
                let e = match a {
                    None => format!("{i},{name}"),
                    Some(a) => format!("{i},{name}({a})"),
                };
                if let Ok(x) = SampleExpr::parse(&e) {
                    let _ = x.eval(&c);
                }
            }
        }
    }
    assert_eq!(
        text("str(a|b|c),field(2,|,9223372036854775807)", &c).as_deref(),
        Some("b|c")
    );
    assert_eq!(
        text("str(a|b|c),field(-2,|,9223372036854775807)", &c).as_deref(),
        Some("a|b")
    );
    assert!(text("rand(9223372036854775807)", &c).is_some());
}
