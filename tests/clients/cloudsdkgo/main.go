// Command cloudsdkgo drives an ECE API (the emulator in emulators/ece, or a real ECE) with Elastic's official Go
// SDK, github.com/elastic/cloud-sdk-go, the way terraform-provider-ec and ecctl do: its own API client, request
// builders, models and plan tracker. Every decoded answer is validated with the SDK's models, and compared with the
// body on the wire: a non-empty field that the models do not know fails the step too.
//
// Configuration comes from the environment (the API key is a secret, so never from argv):
//
//	ECE_URL            https://host:12443 (required)
//	ECE_API_KEY        API key, sent as `Authorization: ApiKey <key>` (required)
//	ECE_DEPLOYMENT_ID  32-hex deployment id (required)
//	ECE_INSECURE       "true" to skip TLS verification (a loopback emulator with its own CA)
//	ECE_TRUST_NAME     name of the direct trust entry to add (default "cloud-sdk-go-proxy")
//	ECE_KEYSTORE_PREFIX prefix of the keystore keys it sets (default "cloudsdkgo.test")
//
// Output: one JSON object per line and step, {"step": ..., "ok": true|false, ...}; the exit code is 1 when any
// step failed (2 when the configuration is unusable). Later steps still run after a failed one where they can.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/go-openapi/runtime"
	"github.com/go-openapi/strfmt"

	"github.com/elastic/cloud-sdk-go/pkg/api"
	"github.com/elastic/cloud-sdk-go/pkg/api/apierror"
	"github.com/elastic/cloud-sdk-go/pkg/api/deploymentapi"
	"github.com/elastic/cloud-sdk-go/pkg/api/deploymentapi/deputil"
	"github.com/elastic/cloud-sdk-go/pkg/api/deploymentapi/eskeystoreapi"
	"github.com/elastic/cloud-sdk-go/pkg/auth"
	"github.com/elastic/cloud-sdk-go/pkg/client/deployments"
	"github.com/elastic/cloud-sdk-go/pkg/models"
	"github.com/elastic/cloud-sdk-go/pkg/plan"
	"github.com/elastic/cloud-sdk-go/pkg/util"
	"github.com/elastic/cloud-sdk-go/pkg/util/ec"
)

type result map[string]any

// recorder is the base transport under the SDK's own (api.NewTransport wraps it): it keeps the last answer body of
// each "METHOD path", so that a decoded answer can be compared with what was on the wire.
type recorder struct {
	base   http.RoundTripper
	mu     sync.Mutex
	bodies map[string][]byte
}

func (t *recorder) RoundTrip(request *http.Request) (*http.Response, error) {
	response, err := t.base.RoundTrip(request)
	if err != nil || response.Body == nil {
		return response, err
	}
	body, err := io.ReadAll(response.Body)
	response.Body.Close()
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.bodies[request.Method+" "+request.URL.Path] = body
	t.mu.Unlock()
	response.Body = io.NopCloser(bytes.NewReader(body))
	return response, nil
}

func (t *recorder) last(method, path string) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bodies[method+" "+path]
}

// unknownFields lists the JSON paths of an answer that the SDK's model dropped when decoding it: fields the
// emulator sends that ECE 3.8's API (which the SDK's models are generated from) does not have.
func unknownFields(raw []byte, model any) ([]string, error) {
	var wire, decoded any
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %w", err)
	}
	again, err := json.Marshal(model)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(again, &decoded); err != nil {
		return nil, err
	}
	found := []string{}
	var walk func(path string, wire, decoded any)
	walk = func(path string, wire, decoded any) {
		switch w := wire.(type) {
		case map[string]any:
			d, _ := decoded.(map[string]any)
			for key, value := range w {
				inner, ok := d[key]
				if !ok {
					if !empty(value) { // an empty value may just be dropped by an `omitempty` on a known field
						found = append(found, path+"."+key)
					}
					continue
				}
				walk(path+"."+key, value, inner)
			}
		case []any:
			d, _ := decoded.([]any)
			for index, value := range w {
				if index < len(d) {
					walk(fmt.Sprintf("%s[%d]", path, index), value, d[index])
				}
			}
		}
	}
	walk("", wire, decoded)
	sort.Strings(found)
	return found, nil
}

type runner struct {
	api          *api.API
	wire         *recorder
	deploymentID string
	trustName    string
	prefix       string
	failed       bool

	current    *models.DeploymentGetResponse // the deployment as read by step 1
	oldVersion string                        // x-cloud-resource-version before the update
	newVersion string                        // and after it
}

func emit(step string, ok bool, fields result) {
	line := result{"step": step, "ok": ok}
	for key, value := range fields {
		line[key] = value
	}
	encoded, err := json.Marshal(line)
	if err != nil {
		encoded = []byte(fmt.Sprintf(`{"step":%q,"ok":false,"error":%q}`, step, err.Error()))
	}
	fmt.Println(string(encoded))
}

func (r *runner) pass(step string, fields result) { emit(step, true, fields) }

func (r *runner) fail(step string, err error, fields result) {
	r.failed = true
	if fields == nil {
		fields = result{}
	}
	fields["error"] = err.Error()
	if status := httpStatus(err); status != 0 {
		fields["status"] = status
	}
	emit(step, false, fields)
}

// httpStatus digs the HTTP status out of an SDK error: a documented answer (e.g. *deployments.UpdateDeploymentNotFound
// has Code()) or one the swagger does not list (*runtime.APIError).
func httpStatus(err error) int {
	var undocumented *runtime.APIError
	if errors.As(err, &undocumented) {
		return undocumented.Code
	}
	var documented interface{ Code() int }
	if errors.As(err, &documented) {
		return documented.Code()
	}
	return 0
}

// errorCodes lists the `code`s of an SDK error built from a BasicFailedReply ("<code>: <message>" each).
func errorCodes(err error) []string {
	var wrapped *apierror.Error
	codes := []string{}
	if !errors.As(err, &wrapped) || wrapped.Multierror() == nil {
		return codes
	}
	for _, element := range wrapped.Multierror().Errors {
		text := element.Error()
		for index := 0; index < len(text); index++ {
			if text[index] == ':' {
				codes = append(codes, text[:index])
				break
			}
		}
	}
	return codes
}

func validated(what string, model interface{ Validate(strfmt.Registry) error }) error {
	if err := model.Validate(strfmt.Default); err != nil {
		return fmt.Errorf("%s does not validate against the SDK's models: %w", what, err)
	}
	return nil
}

// decoded validates an answer with the SDK's models and compares it with the wire: a field the model dropped is an
// error too (the emulator would be answering something that ECE 3.8, which the models are generated from, does not).
func (r *runner) decoded(what, method, path string, model interface{ Validate(strfmt.Registry) error }) error {
	if err := validated(what, model); err != nil {
		return err
	}
	raw := r.wire.last(method, path)
	if raw == nil {
		return fmt.Errorf("%s: no answer recorded for %s %s", what, method, path)
	}
	extra, err := unknownFields(raw, model)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(extra) > 0 {
		return fmt.Errorf("%s has fields that the SDK's model does not know: %v", what, extra)
	}
	return nil
}

func empty(value any) bool {
	switch v := value.(type) {
	case nil:
		return true
	case bool:
		return !v
	case float64:
		return v == 0
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

func (r *runner) deploymentPath() string { return "/api/v1/deployments/" + r.deploymentID }

func (r *runner) keystorePath(refID string) string {
	return r.deploymentPath() + "/elasticsearch/" + refID + "/keystore"
}

func main() {
	url, key, id := os.Getenv("ECE_URL"), os.Getenv("ECE_API_KEY"), os.Getenv("ECE_DEPLOYMENT_ID")
	if url == "" || key == "" || id == "" {
		emit("config", false, result{"error": "ECE_URL, ECE_API_KEY and ECE_DEPLOYMENT_ID must be set"})
		os.Exit(2)
	}
	apiKey, err := auth.NewAPIKey(key)
	if err != nil {
		emit("config", false, result{"error": err.Error()})
		os.Exit(2)
	}
	insecure := os.Getenv("ECE_INSECURE") == "true"
	wire := &recorder{
		base: &http.Transport{
			Proxy:           http.ProxyFromEnvironment,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // opt-in, for a loopback emulator
		},
		bodies: map[string][]byte{},
	}
	client, err := api.NewAPI(api.Config{
		Client:        &http.Client{Transport: wire},
		AuthWriter:    apiKey,
		Host:          url,
		SkipTLSVerify: insecure,
		Timeout:       30 * time.Second,
		UserAgent:     "ece-eck-remote-cloudsdkgo-check",
	})
	if err != nil {
		emit("config", false, result{"error": err.Error()})
		os.Exit(2)
	}
	r := &runner{
		api:          client,
		wire:         wire,
		deploymentID: id,
		trustName:    envOr("ECE_TRUST_NAME", "cloud-sdk-go-proxy"),
		prefix:       envOr("ECE_KEYSTORE_PREFIX", "cloudsdkgo.test"),
	}
	emit("config", true, result{"host": url, "sdk": "github.com/elastic/cloud-sdk-go", "sdk_ece_api_version": api.Version})

	if r.get() {
		if r.update() {
			r.track()
			r.stale()
		}
	}
	r.keystore()
	if r.failed {
		os.Exit(1)
	}
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// --- 1. GET /deployments/{id} -------------------------------------------------------------------------------------

func (r *runner) get() bool {
	const step = "get"
	res, err := deploymentapi.Get(deploymentapi.GetParams{
		API:          r.api,
		DeploymentID: r.deploymentID,
		QueryParams: deputil.QueryParams{
			ShowSettings: true, ShowPlans: true, ShowPlanLogs: true, ShowMetadata: true, ShowPlanHistory: true,
		},
	})
	if err != nil {
		r.fail(step, err, nil)
		return false
	}
	if err := r.decoded("DeploymentGetResponse", "GET", r.deploymentPath(), res); err != nil {
		r.fail(step, err, nil)
		return false
	}
	// The version header, with the generated operation (deploymentapi.Get returns the payload only).
	raw, err := r.api.V1API.Deployments.GetDeployment(
		deployments.NewGetDeploymentParams().WithDeploymentID(r.deploymentID).
			WithShowSettings(ec.Bool(true)).WithShowPlans(ec.Bool(true)).WithShowPlanLogs(ec.Bool(true)).
			WithShowMetadata(ec.Bool(true)).WithShowInstanceConfigurations(ec.Bool(true)).
			WithShowSystemAlerts(ec.Int64(5)).WithClearTransient(ec.Bool(true)),
		r.api.AuthWriter,
	)
	if err != nil {
		r.fail(step, apierror.Wrap(err), nil)
		return false
	}
	if err := r.decoded("DeploymentGetResponse (clear_transient)", "GET", r.deploymentPath(), raw.Payload); err != nil {
		r.fail(step, err, nil)
		return false
	}
	if len(res.Resources.Elasticsearch) == 0 {
		r.fail(step, errors.New("the deployment has no Elasticsearch resource"), nil)
		return false
	}
	es := res.Resources.Elasticsearch[0]
	if es.Info.Settings == nil || es.Info.Settings.Trust == nil {
		r.fail(step, errors.New("show_settings=true did not return settings.trust"), nil)
		return false
	}
	if es.Info.PlanInfo.Current == nil || len(es.Info.PlanInfo.Current.PlanAttemptLog) == 0 {
		r.fail(step, errors.New("show_plan_logs=true did not return the current plan's attempt log"), nil)
		return false
	}
	r.current, r.oldVersion = res, raw.XCloudResourceVersion
	r.pass(step, result{
		"id":               *res.ID,
		"name":             *res.Name,
		"healthy":          *res.Healthy,
		"ref_id":           *es.RefID,
		"cluster_id":       *es.ID,
		"es_version":       es.Info.PlanInfo.Current.Plan.Elasticsearch.Version,
		"direct_trust":     len(es.Info.Settings.Trust.Direct),
		"plan_steps":       len(es.Info.PlanInfo.Current.PlanAttemptLog),
		"resource_version": r.oldVersion,
	})
	return true
}

// --- 2. PUT /deployments/{id}?version= with a new direct trust entry --------------------------------------------

func selfSignedCA(name string) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return "", err
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"ece-eck-remote tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// updateRequest is what ecctl/terraform-provider-ec send: the current plan and settings of every resource
// (deploymentapi.NewUpdateRequest), with `settings.trust.direct` extended by one proxy entry.
func (r *runner) updateRequest(pemText string) (*models.DeploymentUpdateRequest, error) {
	request := deploymentapi.NewUpdateRequest(r.current)
	if request == nil || request.Resources == nil || len(request.Resources.Elasticsearch) == 0 {
		return nil, errors.New("deploymentapi.NewUpdateRequest found no Elasticsearch plan to send")
	}
	es := request.Resources.Elasticsearch[0]
	if es.Settings == nil {
		es.Settings = &models.ElasticsearchClusterSettings{}
	}
	if es.Settings.Trust == nil {
		es.Settings.Trust = &models.ElasticsearchClusterTrustSettings{}
	}
	es.Settings.Trust.Direct = append(es.Settings.Trust.Direct, &models.DirectTrustRelationship{
		Name:         ec.String(r.trustName),
		Type:         "proxy",
		TrustAll:     ec.Bool(false),
		Certificates: []*models.TrustedCertificate{{Pem: ec.String(pemText)}},
	})
	if err := validated("DeploymentUpdateRequest", request); err != nil {
		return nil, err
	}
	return request, nil
}

func (r *runner) update() bool {
	const step = "update"
	pemText, err := selfSignedCA("cloud-sdk-go proxy CA")
	if err != nil {
		r.fail(step, err, nil)
		return false
	}
	request, err := r.updateRequest(pemText)
	if err != nil {
		r.fail(step, err, nil)
		return false
	}
	res, err := r.api.V1API.Deployments.UpdateDeployment(
		deployments.NewUpdateDeploymentParams().
			WithDeploymentID(r.deploymentID).
			WithVersion(ec.String(r.oldVersion)).
			WithBody(request).
			WithHidePrunedOrphans(ec.Bool(false)).
			WithSkipSnapshot(ec.Bool(false)).
			WithValidateOnly(ec.Bool(false)),
		r.api.AuthWriter,
	)
	if err != nil {
		r.fail(step, apierror.Wrap(err), nil)
		return false
	}
	if err := r.decoded("DeploymentUpdateResponse", "PUT", r.deploymentPath(), res.Payload); err != nil {
		r.fail(step, err, nil)
		return false
	}
	r.newVersion = res.XCloudResourceVersion
	if r.newVersion == "" || r.newVersion == r.oldVersion {
		r.fail(step, fmt.Errorf("x-cloud-resource-version did not move from %q (got %q)", r.oldVersion, r.newVersion), nil)
		return false
	}
	resources := []string{}
	for _, resource := range res.Payload.Resources {
		resources = append(resources, *resource.Kind+"/"+*resource.RefID)
	}
	r.pass(step, result{
		"trust_name": r.trustName, "pem": pemText, "resources": resources,
		"version_before": r.oldVersion, "version_after": r.newVersion,
	})
	return true
}

// --- 3. the SDK's plan tracker ------------------------------------------------------------------------------------

func (r *runner) track() {
	const step = "track"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	channel, err := plan.TrackChange(plan.TrackChangeParams{
		API:          r.api,
		Context:      ctx,
		DeploymentID: r.deploymentID,
		Kind:         util.Elasticsearch,
		Config:       plan.TrackFrequencyConfig{PollFrequency: 100 * time.Millisecond, MaxRetries: 3},
	})
	if err != nil {
		r.fail(step, err, nil)
		return
	}
	var updates []result
	var planErrors []string
	finished := false
tracking:
	for {
		select {
		case <-ctx.Done():
			r.fail(step, errors.New("the plan tracker did not finish within 60s"), result{"updates": updates})
			return
		case response, open := <-channel:
			if !open {
				break tracking
			}
			update := result{"kind": response.Kind, "ref_id": response.RefID, "step": response.Step, "finished": response.Finished}
			// As plan.Stream: ErrPlanFinished is the tracker's "done", any other error is the plan's failure.
			if response.Err != nil && !errors.Is(response.Err, plan.ErrPlanFinished) {
				update["error"] = response.Err.Error()
				planErrors = append(planErrors, response.Error())
			}
			finished = finished || response.Finished
			// One line per distinct state: the tracker repeats the running step on every poll.
			if n := len(updates); n > 0 && updates[n-1]["step"] == update["step"] &&
				updates[n-1]["finished"] == update["finished"] && updates[n-1]["error"] == update["error"] {
				updates[n-1]["polls"] = updates[n-1]["polls"].(int) + 1
				continue
			}
			update["polls"] = 1
			updates = append(updates, update)
		}
	}
	if len(planErrors) > 0 {
		r.fail(step, fmt.Errorf("the plan ended with errors: %v", planErrors), result{"updates": updates})
		return
	}
	if !finished {
		r.fail(step, errors.New("the tracker closed without reporting plan-completed"), result{"updates": updates})
		return
	}
	// After the plan: the new entry is in settings.trust.direct, with a uid from the API.
	res, err := deploymentapi.Get(deploymentapi.GetParams{
		API: r.api, DeploymentID: r.deploymentID,
		QueryParams: deputil.QueryParams{ShowSettings: true, ShowPlans: true, ShowPlanLogs: true},
	})
	if err != nil {
		r.fail(step, err, result{"updates": updates})
		return
	}
	if err := r.decoded("DeploymentGetResponse (after the plan)", "GET", r.deploymentPath(), res); err != nil {
		r.fail(step, err, result{"updates": updates})
		return
	}
	es := res.Resources.Elasticsearch[0]
	if es.Info.PlanInfo.Pending != nil {
		r.fail(step, errors.New("a plan is still pending after the tracker finished"), result{"updates": updates})
		return
	}
	uid := ""
	for _, entry := range es.Info.Settings.Trust.Direct {
		if entry.Name != nil && *entry.Name == r.trustName {
			uid = entry.UID
		}
	}
	if uid == "" {
		r.fail(step, fmt.Errorf("no direct trust entry %q with a uid after the plan", r.trustName), result{"updates": updates})
		return
	}
	log := es.Info.PlanInfo.Current.PlanAttemptLog
	r.pass(step, result{"updates": updates, "trust_uid": uid, "last_step": *log[len(log)-1].StepID})
}

// --- 4. keystore --------------------------------------------------------------------------------------------------

func keys(contents *models.KeystoreContents) []string {
	names := []string{}
	for name := range contents.Secrets {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (r *runner) keystoreGet(refID string) (*models.KeystoreContents, error) {
	params := eskeystoreapi.GetParams{API: r.api, DeploymentID: r.deploymentID, RefID: refID}
	contents, err := eskeystoreapi.Get(params)
	if err != nil {
		return nil, err
	}
	if refID == "" { // the SDK discovered it; the GET went to the only Elasticsearch resource's keystore
		refID = r.discoveredRefID()
	}
	return contents, r.decoded("KeystoreContents (GET)", "GET", r.keystorePath(refID), contents)
}

// discoveredRefID is the ref_id that deploymentapi.PopulateRefID found, read back from its recorded GET.
func (r *runner) discoveredRefID() string {
	var answer models.DeploymentGetResponse
	if err := json.Unmarshal(r.wire.last("GET", r.deploymentPath()), &answer); err != nil ||
		answer.Resources == nil || len(answer.Resources.Elasticsearch) == 0 {
		return "main-elasticsearch"
	}
	return *answer.Resources.Elasticsearch[0].RefID
}

func (r *runner) keystoreSet(refID string, secrets map[string]models.KeystoreSecret) (*models.KeystoreContents, error) {
	body := &models.KeystoreContents{Secrets: secrets}
	if err := validated("KeystoreContents (request)", body); err != nil {
		return nil, err
	}
	return r.keystorePatch(refID, secrets)
}

func (r *runner) keystorePatch(refID string, secrets map[string]models.KeystoreSecret) (*models.KeystoreContents, error) {
	body := &models.KeystoreContents{Secrets: secrets}
	contents, err := eskeystoreapi.Update(eskeystoreapi.UpdateParams{
		API: r.api, DeploymentID: r.deploymentID, RefID: refID, Contents: body,
	})
	if err != nil {
		return nil, err
	}
	return contents, r.decoded("KeystoreContents (PATCH answer)", "PATCH", r.keystorePath(refID), contents)
}

func (r *runner) keystore() {
	const step = "keystore"
	secretKey, fileKey, bareKey := r.prefix+".secret", r.prefix+".file", r.prefix+".bare"
	// RefID "" makes the SDK discover it (deploymentapi.PopulateRefID: a plain GET /deployments/{id}).
	before, err := r.keystoreGet("")
	if err != nil {
		r.fail(step, fmt.Errorf("get: %w", err), nil)
		return
	}
	refID := r.discoveredRefID()
	afterSet, err := r.keystoreSet(refID, map[string]models.KeystoreSecret{
		secretKey: {Value: "s3cr3t-from-cloud-sdk-go"},
		fileKey:   {Value: map[string]any{"type": "service_account", "project_id": "cloudsdkgo"}, AsFile: ec.Bool(true)},
		bareKey:   {Value: "removed-again"},
	})
	if err != nil {
		r.fail(step, fmt.Errorf("set: %w", err), result{"before": keys(before)})
		return
	}
	for _, name := range []string{secretKey, fileKey, bareKey} {
		if _, ok := afterSet.Secrets[name]; !ok {
			r.fail(step, fmt.Errorf("set: %s missing from the answer", name), result{"after_set": keys(afterSet)})
			return
		}
	}
	if secret := afterSet.Secrets[fileKey]; secret.AsFile == nil || !*secret.AsFile {
		r.fail(step, fmt.Errorf("set: %s is not as_file", fileKey), nil)
		return
	}
	// Removal: a secret without a value (swagger KeystoreSecret.value: "When the keystore secret is unspecified, it
	// is removed"). Two shapes: terraform-provider-ec's keystore delete keeps as_file and sets Value nil
	// ({"as_file": false}); `ecctl deployment elasticsearch keystore update` with {"secrets": {"k": null}} decodes
	// into a zero KeystoreSecret and goes out as {} (which the SDK's own KeystoreContents.Validate calls missing, so
	// this request is sent without that client-side check, as eskeystoreapi.Update does).
	afterRemove, err := r.keystorePatch(refID, map[string]models.KeystoreSecret{
		secretKey: {AsFile: ec.Bool(false)},
		bareKey:   {},
	})
	if err != nil {
		r.fail(step, fmt.Errorf("remove: %w", err), nil)
		return
	}
	final, err := r.keystoreGet(refID)
	if err != nil {
		r.fail(step, fmt.Errorf("get after remove: %w", err), nil)
		return
	}
	for _, contents := range []*models.KeystoreContents{afterRemove, final} {
		for _, name := range []string{secretKey, bareKey} {
			if _, ok := contents.Secrets[name]; ok {
				r.fail(step, fmt.Errorf("remove: %s is still there", name), result{"final": keys(final)})
				return
			}
		}
		if _, ok := contents.Secrets[fileKey]; !ok {
			r.fail(step, fmt.Errorf("remove: %s went too", fileKey), result{"final": keys(final)})
			return
		}
	}
	for name := range before.Secrets {
		if _, ok := final.Secrets[name]; !ok {
			r.fail(step, fmt.Errorf("%s (there before) is gone", name), result{"final": keys(final)})
			return
		}
	}
	for name, secret := range final.Secrets {
		if secret.Value != nil {
			r.fail(step, fmt.Errorf("the GET answer shows the value of %s", name), nil)
			return
		}
	}
	r.pass(step, result{
		"before": keys(before), "after_set": keys(afterSet), "after_remove": keys(afterRemove), "final": keys(final),
		"set": []string{secretKey, fileKey, bareKey}, "removed": []string{secretKey, bareKey},
	})
}

// --- 5. a stale ?version= -----------------------------------------------------------------------------------------

func (r *runner) stale() {
	const step = "stale_version"
	pemText, err := selfSignedCA("cloud-sdk-go stale CA")
	if err != nil {
		r.fail(step, err, nil)
		return
	}
	request, err := r.updateRequest(pemText) // from the state before the update: what a stale client holds
	if err != nil {
		r.fail(step, err, nil)
		return
	}
	request.Resources.Elasticsearch[0].Settings.Trust.Direct[len(request.Resources.Elasticsearch[0].Settings.Trust.Direct)-1].Name = ec.String(r.trustName + "-stale")
	_, err = r.api.V1API.Deployments.UpdateDeployment(
		deployments.NewUpdateDeploymentParams().
			WithDeploymentID(r.deploymentID).
			WithVersion(ec.String(r.oldVersion)).
			WithBody(request),
		r.api.AuthWriter,
	)
	if err == nil {
		r.fail(step, fmt.Errorf("an update with the stale version %s (now %s) was accepted", r.oldVersion, r.newVersion), nil)
		return
	}
	wrapped := apierror.Wrap(err)
	status := httpStatus(err)
	fields := result{
		"status": status, "codes": errorCodes(wrapped), "error": wrapped.Error(), "sdk_error_type": fmt.Sprintf("%T", err),
		"stale_version": r.oldVersion, "current_version": r.newVersion,
	}
	if status < 400 || status >= 500 {
		r.failed = true
		fields["why"] = "expected a 4xx conflict answer, got status " + strconv.Itoa(status)
		emit(step, false, fields)
		return
	}
	r.pass(step, fields)
}
