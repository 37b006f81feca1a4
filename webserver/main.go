// Command webserver is the recommendation site the lab deploys to each instance, in the three
// versions the lab steps through (ServerCode basic, errorhandling, healthcheck).
//
// Each request for / reads the RecommendationServiceEnabled parameter (cached for a few
// seconds) and asks the RecommendationService, a DynamoDB table, for a user's TV show. What
// happens when that fails depends on the ServerCode: basic drops the connection (the load
// balancer answers 502), the others answer a static recommendation with diagnostic info.
// /healthcheck is shallow except in healthcheck mode, where it reads the probe row.
//
// AWS access goes only through the SDK's standard configuration, so AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_SSM and AWS_EC2_METADATA_SERVICE_ENDPOINT point it at local stand-ins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"healthchecklab/internal/lab"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "webserver:", err)
		os.Exit(1)
	}
}

// defaultMaxHeaderBytes is the largest request head (request line and headers) accepted.
const defaultMaxHeaderBytes = 16 << 10

// netHTTPHeaderSlack is what net/http reads beyond http.Server.MaxHeaderBytes before it
// answers 431; the server subtracts it so that -max-header-bytes is the true limit.
const netHTTPHeaderSlack = 4096

// gcPercent is the server's GOGC unless the environment sets one.
const gcPercent = 400

// options are the server's settings, from flags with environment fallbacks.
type options struct {
	listen     string
	serverCode lab.ServerCode
	table      string
	parameter  string
	region     string

	dependencyTimeout time.Duration // bound on one recommendation: parameter read plus GetItem
	parameterTTL      time.Duration // how long a parameter value is reused
	healthTTL         time.Duration // how long a deep health-check result is reused
	credentialsMaxAge time.Duration // how often credentials are re-read in the background
	metadataTimeout   time.Duration // bound on reading the instance metadata at start-up
	maxInFlight       int           // concurrent / requests before shedding with 503
	readHeaderTimeout time.Duration
	shutdownTimeout   time.Duration
	maxHeaderBytes    int
	cpuProfile        string // file to write a CPU profile to, from start to exit
}

// parseOptions reads args (without the program name) and the environment fallbacks.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	envDuration := func(key string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(getenv(key)); err == nil {
			return d
		}
		return def
	}
	envInt := func(key string, def int) int {
		if n, err := strconv.Atoi(getenv(key)); err == nil {
			return n
		}
		return def
	}

	var o options
	var code string
	fs := flag.NewFlagSet("webserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", env("LISTEN_ADDR", ":"+strconv.Itoa(lab.WebPort)), "address to listen on (env LISTEN_ADDR)")
	fs.StringVar(&code, "server-code", env("SERVER_CODE", ""), "basic, errorhandling or healthcheck (required; env SERVER_CODE)")
	fs.StringVar(&o.table, "table", env("TABLE_NAME", ""), "RecommendationService DynamoDB table (required; env TABLE_NAME)")
	fs.StringVar(&o.parameter, "parameter", env("PARAMETER_NAME", lab.ParameterName), "SSM parameter that enables the service (env PARAMETER_NAME)")
	fs.StringVar(&o.region, "region", "", "AWS region (default: the SDK's AWS_REGION, else the instance metadata)")
	fs.DurationVar(&o.dependencyTimeout, "dependency-timeout", envDuration("DEPENDENCY_TIMEOUT", time.Second), "bound on one call to the RecommendationService, parameter read included")
	fs.DurationVar(&o.parameterTTL, "parameter-ttl", envDuration("PARAMETER_TTL", 5*time.Second), "how long a parameter value is reused")
	fs.DurationVar(&o.healthTTL, "health-ttl", envDuration("HEALTH_TTL", time.Second), "how long a deep health-check result is reused")
	fs.DurationVar(&o.credentialsMaxAge, "credentials-max-age", envDuration("CREDENTIALS_MAX_AGE", 5*time.Second), "re-read the credentials in the background this often, so a swapped instance role is seen")
	fs.DurationVar(&o.metadataTimeout, "metadata-timeout", envDuration("METADATA_TIMEOUT", 2*time.Second), "bound on reading the instance metadata at start-up")
	fs.IntVar(&o.maxInFlight, "max-in-flight", envInt("MAX_IN_FLIGHT", 64), "concurrent / requests before shedding load with 503 (health checks are not counted)")
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", envDuration("READ_HEADER_TIMEOUT", 5*time.Second), "time a client has to send its request headers")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", envDuration("SHUTDOWN_TIMEOUT", 8*time.Second), "time in-flight requests get after SIGTERM (inside the 10 s deregistration delay)")
	fs.IntVar(&o.maxHeaderBytes, "max-header-bytes", envInt("MAX_HEADER_BYTES", defaultMaxHeaderBytes), "largest request head accepted, request line and headers together (larger: 431)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) to this file from start to exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: webserver -server-code basic|errorhandling|healthcheck -table TABLE [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	sc, err := lab.ParseServerCode(code)
	if err != nil {
		return o, err
	}
	o.serverCode = sc
	switch {
	case o.table == "":
		return o, errors.New("-table is required")
	case o.parameter == "":
		return o, errors.New("-parameter must not be empty")
	case o.dependencyTimeout <= 0 || o.parameterTTL < 0 || o.healthTTL < 0 || o.credentialsMaxAge <= 0:
		return o, errors.New("timeouts and TTLs must be positive")
	case o.maxInFlight < 1:
		return o, errors.New("-max-in-flight must be at least 1")
	case o.maxHeaderBytes <= 2*netHTTPHeaderSlack:
		return o, fmt.Errorf("-max-header-bytes must be more than %d", 2*netHTTPHeaderSlack)
	}
	return o, nil
}

// run is the whole program: it parses args, connects to AWS, serves until ctx ends, then
// shuts down gracefully. main only adds the signals and the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, nil))
	if getenv("GOGC") == "" {
		// The live heap is a few MB, so Go's default (collect when the heap doubles) runs the
		// collector every few hundred requests. Letting it grow five-fold costs about 12 MB
		// resident under load and cuts the collector's share of the CPU by about three quarters.
		debug.SetGCPercent(gcPercent)
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	deps, err := connect(ctx, o, getenv, logger)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newServer(deps),
		ReadHeaderTimeout: o.readHeaderTimeout,
		ReadTimeout:       o.readHeaderTimeout + 5*time.Second,
		WriteTimeout:      o.dependencyTimeout + 10*time.Second,
		// Longer than the load balancer's 60 s idle timeout, so the server never closes a
		// connection the load balancer is about to reuse (which would show as a 502).
		IdleTimeout:    65 * time.Second,
		MaxHeaderBytes: o.maxHeaderBytes - netHTTPHeaderSlack,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "server_code", string(o.serverCode),
		"table", o.table, "parameter", o.parameter, "region", deps.region,
		"instance_id", deps.metadata.InstanceID, "availability_zone", deps.metadata.AvailabilityZone)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", o.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
