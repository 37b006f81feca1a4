package main

import "html/template"

// The pages are html/template, so every dynamic text (names, shows, error messages) is
// escaped. A coloured banner shows at a glance the zone, the instance, and whether the answer
// is personalized (green) or static (amber), or whether the health check passed (green) or
// failed (red).
const layout = `{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2327;background:#f6f7f7}
.banner{display:flex;flex-wrap:wrap;gap:2rem;align-items:center;padding:1.2rem 2rem;color:#fff}
.banner .big{font-size:2rem;font-weight:700;letter-spacing:.02em}
.banner .label{font-size:.8rem;text-transform:uppercase;opacity:.85}
.banner .state{margin-left:auto;font-size:1.6rem;font-weight:800;border:3px solid #fff;border-radius:.4rem;padding:.2rem .8rem}
.personalized,.success{background:#1e7b34}.static{background:#b35c00}.fail{background:#b3261e}
main{padding:1rem 2rem;max-width:60rem}
.answer{font-size:1.5rem;margin:1rem 0}
pre{white-space:pre-wrap;word-break:break-word;background:#fff3e0;border-left:4px solid #b35c00;padding:.6rem}
.fail-msg{background:#fdecea;border-color:#b3261e}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #c3c4c7;padding:.3rem .7rem;text-align:left}
th{background:#f0f0f1;font-weight:600}footer{color:#646970;font-size:.85rem;margin-top:1.5rem}
</style></head><body>{{end}}
{{define "where"}}<div><div class="label">Availability Zone</div><div class="big">{{if .OutsideAWS}}outside AWS{{else}}{{.AvailabilityZone}}{{end}}</div></div>
<div><div class="label">Instance</div><div class="big">{{if .OutsideAWS}}local{{else}}{{.InstanceID}}{{end}}</div></div>{{end}}
{{define "metadata"}}<h2>Instance metadata</h2>
{{if .OutsideAWS}}<p>Running outside AWS</p>{{else}}<table>
<tr><th>account_id</th><td>{{.AccountID}}</td></tr>
<tr><th>ami_id</th><td>{{.AMIID}}</td></tr>
<tr><th>availability_zone</th><td>{{.AvailabilityZone}}</td></tr>
<tr><th>instance_id</th><td>{{.InstanceID}}</td></tr>
<tr><th>instance_type</th><td>{{.InstanceType}}</td></tr>
<tr><th>private_hostname</th><td>{{.PrivateHostname}}</td></tr>
<tr><th>private_ipv4</th><td>{{.PrivateIPv4}}</td></tr>
</table>{{end}}{{end}}`

var pageTemplate = template.Must(template.Must(template.New("layout").Parse(layout)).New("page").Parse(
	`{{template "head" "Recommendation"}}
<div class="banner {{if .Personalized}}personalized{{else}}static{{end}}">{{template "where" .Metadata}}
<div class="state">{{if .Personalized}}PERSONALIZED{{else}}STATIC{{end}}</div></div>
<main>
<h1>Enjoy some great TV</h1>
{{if .Personalized}}<p class="answer"><b>{{.UserName}}</b>, your recommendation is: <b>{{.Show}}</b></p>
{{else}}<p class="answer">{{.UserName}}, everyone enjoys this classic: {{.Show}}</p>
<h3>Diagnostic Info</h3>
<pre>{{.Diagnostic}}</pre>{{end}}
{{template "metadata" .Metadata}}
<footer>ServerCode {{.ServerCode}}</footer>
</main></body></html>
`))

var healthTemplate = template.Must(template.Must(template.New("layout").Parse(layout)).New("health").Parse(
	`{{template "head" "healthcheck"}}
<div class="banner {{if .Healthy}}success{{else}}fail{{end}}">{{template "where" .Metadata}}
<div class="state">{{if .Healthy}}HEALTHY{{else}}UNHEALTHY{{end}}</div></div>
<main>
{{if .Healthy}}<h1>Success</h1>{{else}}<h1>Fail</h1>
<h3>Error message:</h3>
<pre class="fail-msg">{{.Error}}</pre>{{end}}
<p>{{if .Deep}}Deep check: asks the RecommendationService for the probe user.{{else}}Shallow check: the server is up; dependencies are not checked.{{end}}</p>
{{template "metadata" .Metadata}}
<footer>ServerCode {{.ServerCode}}</footer>
</main></body></html>
`))
