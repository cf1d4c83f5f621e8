# brms fit of the realisations-only model, called by benchmarks/brms_compare.py (one fresh R
# process per configuration, so that compile times are those a user sees).
#
#   Rscript benchmarks/brms_fit.R CONFIG.json OUTDIR
#
# CONFIG.json (written by brms_compare.py): csv, outcomes, supports, covariates (numeric or
# categorical, with their levels, reference first), groups, seed, chains, cores, iter, warmup,
# adapt_delta (null: brms's default). OUTDIR receives draws.csv (posterior::as_draws_df),
# sampler.csv (rstan's sampler parameters after warmup), meta.json (timings, divergences,
# versions, formula) and prior.txt / model.stan (brms's priors and generated Stan code).
suppressPackageStartupMessages({
  library(jsonlite)
  library(brms)
})
t_start <- proc.time()[["elapsed"]]
args <- commandArgs(trailingOnly = TRUE)
cfg <- fromJSON(args[[1]], simplifyVector = TRUE)
out <- args[[2]]
dir.create(out, showWarnings = FALSE, recursive = TRUE)

# --- the data: the CSV capmodel fits, in long format (one row per person x realisation) ------
wide <- read.csv(cfg$csv, stringsAsFactors = FALSE, check.names = FALSE)
for (cv in names(cfg$categorical)) {
  levs <- cfg$categorical[[cv]]  # reference level first: treatment contrasts against it
  if (!all(wide[[cv]] %in% levs)) stop("column ", cv, " has levels outside ", toString(levs))
  wide[[cv]] <- factor(wide[[cv]], levels = levs)
}
# group labels (French region names with spaces and quotes) as plain codes; nothing else changes
for (g in cfg$groups) wide[[g]] <- paste0(g, as.integer(factor(wide[[g]])))
preds <- c(cfg$supports, cfg$covariates)
long <- do.call(rbind, lapply(cfg$outcomes, function(r) {
  d <- wide[, c(preds, cfg$groups)]
  d$realisation <- r
  d$y <- as.integer(wide[[r]])
  d
}))
long$realisation <- factor(long$realisation, levels = cfg$outcomes)
long <- long[!is.na(long$y), ]

# --- the formula: per-realisation coefficients; one sd per group factor shared by the
# realisations (as capmodel's realisation_<g>_sd), regions nested in operators (region labels
# are unique across operators, so realisation:region is realisation:operator:region) ---------
rhs <- paste0("0 + realisation + realisation:(", paste(preds, collapse = " + "), ")")
for (g in cfg$groups) rhs <- paste0(rhs, " + (1 | realisation:", g, ")")
form <- bf(as.formula(paste("y ~", rhs)))

control <- if (is.null(cfg$adapt_delta)) NULL else list(adapt_delta = cfg$adapt_delta)

t0 <- proc.time()[["elapsed"]]
fit0 <- brm(form, data = long, family = bernoulli(), chains = 0, seed = cfg$seed, refresh = 0,
            silent = 2)
compile_s <- proc.time()[["elapsed"]] - t0

t0 <- proc.time()[["elapsed"]]
fit <- update(fit0, recompile = FALSE, chains = cfg$chains, cores = cfg$cores, iter = cfg$iter,
              warmup = cfg$warmup, seed = cfg$seed, control = control, refresh = 0, silent = 2)
sampling_s <- proc.time()[["elapsed"]] - t0

# --- outputs ---------------------------------------------------------------------------------
dd <- posterior::as_draws_df(fit)
df <- as.data.frame(dd)
df$.chain <- dd$.chain
df$.iteration <- dd$.iteration
write.csv(df, file.path(out, "draws.csv"), row.names = FALSE)

sp <- rstan::get_sampler_params(fit$fit, inc_warmup = FALSE)
sampler <- do.call(rbind, lapply(seq_along(sp), function(i) {
  data.frame(chain = i, iteration = seq_len(nrow(sp[[i]])), sp[[i]], check.names = FALSE)
}))
write.csv(sampler, file.path(out, "sampler.csv"), row.names = FALSE)

elapsed <- rstan::get_elapsed_time(fit$fit)
# brms's priors, one line per class (each coefficient of a class has its class's prior)
ps <- as.data.frame(prior_summary(fit))
cls <- ps[ps$coef == "", c("prior", "class", "group", "lb", "source")]
writeLines(c(capture.output(print(cls, row.names = FALSE)),
             sprintf("(%d coefficients of class b, %d group sds: each has its class's prior)",
                     sum(ps$class == "b" & ps$coef != ""),
                     sum(ps$class == "sd" & ps$coef != ""))),
           file.path(out, "prior.txt"))
writeLines(stancode(fit), file.path(out, "model.stan"))
meta <- list(
  compile_s = compile_s, sampling_s = sampling_s,
  chain_warmup_s = unname(elapsed[, "warmup"]), chain_sample_s = unname(elapsed[, "sample"]),
  divergences = sum(sampler$divergent__), max_treedepth_hits = sum(sampler$treedepth__ >= 10),
  mean_treedepth = mean(sampler$treedepth__), n_leapfrog = sum(sampler$n_leapfrog__),
  stepsize = unname(tapply(sampler$stepsize__, sampler$chain, mean)),
  rows = nrow(long), n_fixed = ncol(standata(fit)$X), formula = paste("y ~", rhs),
  adapt_delta = if (is.null(cfg$adapt_delta)) 0.8 else cfg$adapt_delta,
  r = R.version.string, brms = format(packageVersion("brms")),
  rstan = format(packageVersion("rstan")), stanheaders = format(packageVersion("StanHeaders")),
  wall_s = proc.time()[["elapsed"]] - t_start
)
write(toJSON(meta, auto_unbox = TRUE, digits = NA), file.path(out, "meta.json"))
cat("brms_fit: done in", round(meta$wall_s), "s\n")
