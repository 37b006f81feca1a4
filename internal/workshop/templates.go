package workshop

import "text/template"

// contentSpec is the fragment of a Workshop Studio contentspec.yaml that deploys the entry
// template into each participant's account. Workshop Studio substitutes its own assets
// bucket and prefix for the two {{.Assets…}} values.
var contentSpec = template.Must(template.New("contentspec").Parse(`# HealthCheckLab: merge these two sections into your workshop's contentspec.yaml (version 2.0).
# Copy static/{{.Stack}}.template.json into the workshop's static/ folder and the contents of
# assets/ into its assets/ folder; Workshop Studio uploads assets/ and passes its bucket and prefix.
awsAccountConfig:
  serviceLinkedRoles:
    - autoscaling.amazonaws.com
    - elasticloadbalancing.amazonaws.com
infrastructure:
  cloudformationTemplates:
    - templateLocation: {{.EntryTemplate}}
      label: {{.Stack}}
      parameters:
{{- range .Parameters}}
        - templateParameter: {{.Name}}
{{- if eq .Name "AssetsBucketName"}}
          defaultValue: "{{"{{"}}.AssetsBucketName{{"}}"}}"
{{- else if eq .Name "AssetsBucketPrefix"}}
          defaultValue: "{{"{{"}}.AssetsBucketPrefix{{"}}"}}"
{{- else}}
          defaultValue: "{{.Default}}"
{{- end}}
{{- end}}
`))

// readme tells an instructor how to deploy the folder, in Workshop Studio and in their own
// account, and how the lab's stages work from it.
var readme = template.Must(template.New("readme").Parse(`# HealthCheckLab: CloudFormation package

This folder deploys the health-check lab with CloudFormation alone: no CDK, no ` + "`cdk bootstrap`" + `.

- ` + "`{{.EntryTemplate}}`" + `: the one template to deploy. It creates the network and the lab as two
  nested stacks, whose templates are read from the assets.
- ` + "`assets/`" + `: {{len .Assets}} files (the nested templates, the web server, the two custom-resource
  functions), read from ` + "`s3://${AssetsBucketName}/${AssetsBucketPrefix}<key>`" + `.
- ` + "`contentspec.yaml`" + `: the fragment for an AWS Workshop Studio workshop.

Parameters of the entry template:
{{range .Parameters}}
- ` + "`{{.Name}}`" + `{{if .HasDefault}} (default ` + "`{{.Default}}`" + `){{end}}: {{.Description}}
{{- end}}

## Stages: the ServerCode parameter

The lab's three server versions are one template set and one parameter, ` + "`ServerCode`" + `
(basic, errorhandling, healthcheck). The parameter changes only the launch template, so each
update replaces the instances one by one, as ` + "`cdk deploy -c ServerCode=…`" + ` does.

## In AWS Workshop Studio

1. Copy ` + "`{{.EntryTemplate}}`" + ` into your workshop repository's ` + "`static/`" + ` folder and the
   contents of ` + "`assets/`" + ` into its ` + "`assets/`" + ` folder.
2. Merge ` + "`contentspec.yaml`" + ` into the workshop's ` + "`contentspec.yaml`" + `. Workshop Studio fills in
   ` + "`AssetsBucketName`" + ` and ` + "`AssetsBucketPrefix`" + ` and deploys the template in every participant's account.
3. Participants change stage from CloudShell (use the stack name Workshop Studio gave the stack):

   ` + "```sh" + `
   aws cloudformation update-stack --stack-name STACK --use-previous-template \
     --capabilities CAPABILITY_NAMED_IAM \
     --parameters ParameterKey=ServerCode,ParameterValue=errorhandling \
       ParameterKey=AssetsBucketName,UsePreviousValue=true ParameterKey=AssetsBucketPrefix,UsePreviousValue=true
   ` + "```" + `

## In your own account

The bucket must be in the region you deploy to (Lambda and nested stacks read from it there).

` + "```sh" + `
BUCKET=my-bucket-in-this-region
PREFIX=healthchecklab/
aws s3 sync assets/ "s3://$BUCKET/$PREFIX"
aws cloudformation deploy --stack-name {{.Stack}} --template-file {{.EntryTemplate}} \
  --capabilities CAPABILITY_NAMED_IAM \
  --parameter-overrides AssetsBucketName="$BUCKET" AssetsBucketPrefix="$PREFIX" ServerCode=basic
` + "```" + `

Next stages: the same ` + "`aws cloudformation deploy`" + ` with ` + "`ServerCode=errorhandling`" + `, then
` + "`ServerCode=healthcheck`" + `. Drive the lab with ` + "`labctl --target aws --stack {{.Stack}} status`" + ` (it
reads every name from the stack's outputs). Remove it with
` + "`aws cloudformation delete-stack --stack-name {{.Stack}}`" + `, then empty the prefix in your bucket.
`))
