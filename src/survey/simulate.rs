//! The calibrated synthetic survey (docs/simulation.md).
//!
//! Respondents are generated area by area in the export layout the codebook
//! describes. Per respondent and theme, two latent propensities (individual
//! and collective) are linear in the respondent's attitudes and
//! demographics, with coefficients solved from the published correlations;
//! answers are then assigned by quota within each nudge arm so that the
//! levels of Table 2 and the arm effects of Table 5 are met to rounding.
//! Everything about areas, themes and items comes from the codebook and the
//! published tables; the same seed gives the same bytes.

use std::io::{self, Write};

use statrs::distribution::{ContinuousCDF, Normal};

use super::codebook::{Codebook, Role, ValueSet, Variable};
use super::published::Published;

/// Simulation settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Seed of the random stream.
    pub seed: u64,
    /// Copies of each area's respondents (each freshly drawn).
    pub scale: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 2016,
            scale: 1,
        }
    }
}

/// Small, fast, stable generator (xoshiro256**), seeded through splitmix64,
/// so the synthetic data does not change when a dependency does.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator for a seed.
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform integer below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n - 1)
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }

    /// An independent stream for a sub-task.
    pub fn fork(&mut self, tag: u64) -> Rng {
        Rng::new(self.next_u64() ^ tag.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }
}

// Answer behaviour that is not in the published tables: plausible panel rates.
const DK_ITEM: f64 = 0.03;
const DK_COLLECTIVE: f64 = 0.04;
const DK_TIME: f64 = 0.06;
const DK_ATTITUDE: f64 = 0.08;
const BLANK: f64 = 0.012;
const DEMO_MISSING: f64 = 0.02;
const ITEM_LOADING: f64 = 0.8;
const COLLECTIVE_LOADING: f64 = 0.9;
const TIME_LOADING: f64 = 0.5;
const MAX_R2: f64 = 0.9;
const PILOT: usize = 20_000;

/// Published effect of each arm code, in proportion units.
type ArmDeltas = Vec<(i64, f64)>;

struct ItemPlan {
    var: usize,
    rate: f64,
    deltas: ArmDeltas,
    first_share: f64,
}

struct ScoredPlan {
    var: usize,
    beta: f64,
    gamma: f64,
}

struct ThemePlan {
    individual: Vec<ItemPlan>,
    collective: Vec<ItemPlan>,
    time: Vec<ItemPlan>,
    attitudes: Vec<ScoredPlan>,
    /// (variable, beta, gamma) of the respondent-level demographics.
    demographics: Vec<ScoredPlan>,
}

struct AreaPlan {
    index: usize,
    respondents: usize,
    arm_codes: Vec<i64>,
    themes: Vec<ThemePlan>,
}

fn category_probs(k: usize) -> Vec<f64> {
    match k {
        2 => vec![0.47, 0.53],
        4 => vec![0.12, 0.28, 0.38, 0.22],
        5 => vec![0.08, 0.17, 0.30, 0.32, 0.13],
        6 => vec![0.06, 0.11, 0.16, 0.19, 0.21, 0.27],
        _ => vec![1.0 / k as f64; k],
    }
}

/// Ethnic groups as an English panel has them: the majority group (the
/// first category, scored lowest) about four in five, the minorities the
/// rest. The generic shares would make the majority a small minority.
fn ethnic_group_probs(k: usize) -> Vec<f64> {
    match k {
        0 | 1 => vec![1.0; k],
        6 => vec![0.78, 0.06, 0.03, 0.07, 0.04, 0.02],
        _ => {
            let rest = 0.22 / (k - 1) as f64;
            std::iter::once(0.78)
                .chain(std::iter::repeat_n(rest, k - 1))
                .collect()
        }
    }
}

/// Answer categories of a value set (not don't know or missing), by score.
fn categories(set: &ValueSet) -> Vec<i64> {
    let mut c: Vec<i64> = set
        .labels
        .keys()
        .copied()
        .filter(|c| set.score(*c).is_some())
        .collect();
    c.sort_by(|a, b| {
        let (sa, sb) = (set.score(*a).unwrap_or(0.0), set.score(*b).unwrap_or(0.0));
        sa.total_cmp(&sb).then(a.cmp(b))
    });
    c
}

/// corr(S, z) for S = the ordinal score of z cut at the probabilities' quantiles.
fn discretisation_r(scores: &[f64], probs: &[f64]) -> f64 {
    let n01 = Normal::standard();
    let pdf = |t: f64| (-0.5 * t * t).exp() / (std::f64::consts::TAU).sqrt();
    let mut cum = 0.0;
    let mut prev_pdf = 0.0;
    let (mut cov, mut mean, mut sq) = (0.0, 0.0, 0.0);
    for (k, (&s, &p)) in scores.iter().zip(probs).enumerate() {
        cum += p;
        let next_pdf = if k + 1 == probs.len() {
            0.0
        } else {
            pdf(n01.inverse_cdf(cum.min(1.0 - 1e-12)))
        };
        cov += s * (prev_pdf - next_pdf);
        mean += p * s;
        sq += p * s * s;
        prev_pdf = next_pdf;
    }
    let sd = (sq - mean * mean).sqrt();
    if sd > 0.0 { cov / sd } else { 0.0 }
}

/// Marks the top `rate` share of `eligible` by `score` as positive.
fn assign_quota(score: &[f64], eligible: &[usize], rate: f64, out: &mut [bool]) {
    let mut order: Vec<usize> = eligible.to_vec();
    order.sort_by(|a, b| score[*b].total_cmp(&score[*a]).then(a.cmp(b)));
    let k = (rate.clamp(0.0, 1.0) * eligible.len() as f64).round() as usize;
    for (rank, &i) in order.iter().enumerate() {
        out[i] = rank < k;
    }
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// corr(measure, latent) of a measure that is the share of items positive,
/// each item loading `loading` on the latent, by a pilot draw.
fn measure_attenuation(rates: &[f64], loading: f64, rng: &mut Rng) -> f64 {
    let latent: Vec<f64> = (0..PILOT).map(|_| rng.normal()).collect();
    let all: Vec<usize> = (0..PILOT).collect();
    let mut measure = vec![0.0; PILOT];
    let mut positive = vec![false; PILOT];
    for &rate in rates {
        let item = item_scores(&latent, loading, rates.len() == 1, rng);
        assign_quota(&item, &all, rate, &mut positive);
        for (m, p) in measure.iter_mut().zip(&positive) {
            *m += f64::from(u8::from(*p)) / rates.len() as f64;
        }
    }
    pearson(&measure, &latent)
}

/// An item's latent: the measure's latent itself for a single item, else
/// `loading x latent + noise` with unit variance.
fn item_scores(latent: &[f64], loading: f64, single: bool, rng: &mut Rng) -> Vec<f64> {
    if single {
        return latent.to_vec();
    }
    latent
        .iter()
        .map(|l| loading * l + (1.0 - loading * loading).sqrt() * rng.normal())
        .collect()
}

fn spread_rates(p: f64, m: usize, rng: &mut Rng) -> Vec<f64> {
    if m <= 1 {
        return vec![p; m];
    }
    let spread = 0.2f64.min(p - 0.02).min(0.98 - p).max(0.0);
    let mut rates: Vec<f64> = (0..m)
        .map(|j| p + spread * (2.0 * j as f64 / (m - 1) as f64 - 1.0))
        .collect();
    rng.shuffle(&mut rates);
    rates
}

fn arm_deltas(
    codebook: &Codebook,
    published: &Published,
    area: &str,
    theme: &str,
    sub: Option<&str>,
    collective: bool,
) -> ArmDeltas {
    let Some(arm_var) = codebook.role_variable(Role::Arm) else {
        return Vec::new();
    };
    let Some(set) = codebook.values_of(arm_var) else {
        return Vec::new();
    };
    let block = published
        .nudges
        .iter()
        .find(|b| b.area == area && b.theme == theme && b.sub.as_deref() == sub)
        .or_else(|| {
            published
                .nudges
                .iter()
                .find(|b| b.area == area && b.theme == theme && b.sub.is_none())
        });
    set.labels
        .keys()
        .map(|code| {
            let name = set.name(*code).unwrap_or("");
            let d = block
                .and_then(|b| b.rows.iter().find(|r| r.arm == name))
                .map_or(0.0, |r| {
                    if collective {
                        r.collective
                    } else {
                        r.individual
                    }
                });
            (*code, d / 100.0)
        })
        .collect()
}

fn target_r(published: &Published, table: u8, var: &Variable, area: &str, theme: &str) -> f64 {
    let role = var.role.name();
    if let Some(c) = published.correlation(table, role, area, theme, var.sub.as_deref()) {
        return c.r;
    }
    if var.sub.is_none() {
        let cells: Vec<f64> = published
            .correlates
            .iter()
            .filter(|row| row.table == table && row.variable == role)
            .flat_map(|row| row.cells.iter())
            .filter(|c| c.area == area && c.theme == theme)
            .map(|c| c.r)
            .collect();
        if cells.len() == 1 {
            return cells[0];
        }
    }
    0.0
}

fn plan(codebook: &Codebook, published: &Published, rng: &mut Rng) -> Vec<AreaPlan> {
    let arm_var = codebook.role_variable(Role::Arm);
    let mut plans = Vec::new();
    for (ai, area) in codebook.areas.iter().enumerate() {
        let respondents = published
            .areas
            .iter()
            .find(|a| a.area == area.name)
            .map_or(500, |a| a.respondents);
        let arm_codes: Vec<i64> = match arm_var {
            Some(v) if area.nudge && v.areas.contains(&area.name) => codebook
                .values_of(v)
                .map(|s| s.labels.keys().copied().collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let themes = area
            .themes
            .iter()
            .map(|theme| {
                let at = Place {
                    codebook,
                    published,
                    area: &area.name,
                    theme,
                };
                let (individual, collective, time) = at.production_items(rng);
                let (attitudes, demographics) = at.scored(&individual, &collective, rng);
                ThemePlan {
                    individual,
                    collective,
                    time,
                    attitudes,
                    demographics,
                }
            })
            .collect();
        plans.push(AreaPlan {
            index: ai,
            respondents,
            arm_codes,
            themes,
        });
    }
    plans
}

/// One theme in one area, while planning.
struct Place<'a> {
    codebook: &'a Codebook,
    published: &'a Published,
    area: &'a str,
    theme: &'a str,
}

impl<'a> Place<'a> {
    /// The variables of a role asked about this theme in this area.
    fn asked(&self, role: Role) -> Vec<(usize, &'a Variable)> {
        self.codebook
            .variables
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                v.role == role
                    && v.theme.as_deref() == Some(self.theme)
                    && v.areas.iter().any(|a| a == self.area)
            })
            .collect()
    }

    /// Individual, collective and time items with their rates.
    fn production_items(&self, rng: &mut Rng) -> (Vec<ItemPlan>, Vec<ItemPlan>, Vec<ItemPlan>) {
        let (codebook, published, theme) = (self.codebook, self.published, self.theme);
        let level = published.level(self.area, theme);
        // individual items: rates spread around the level, per sub-item
        let p_ind = level.map_or(0.5, |l| l.individual_pct / 100.0);
        let ind_vars = self.asked(Role::Individual);
        let mut individual = Vec::new();
        let mut subs: Vec<Option<String>> = ind_vars.iter().map(|(_, v)| v.sub.clone()).collect();
        subs.dedup();
        for sub in &subs {
            let group: Vec<&(usize, &Variable)> =
                ind_vars.iter().filter(|(_, v)| &v.sub == sub).collect();
            let rates = spread_rates(p_ind, group.len(), rng);
            for ((vi, _), rate) in group.into_iter().zip(rates) {
                individual.push(ItemPlan {
                    var: *vi,
                    rate,
                    deltas: arm_deltas(
                        codebook,
                        published,
                        self.area,
                        theme,
                        sub.as_deref(),
                        false,
                    ),
                    first_share: 0.4,
                });
            }
        }
        let p_col = level.map_or(0.2, |l| l.collective_pct / 100.0);
        let first_col = level
            .and_then(|l| l.collective_often_pct.map(|o| o / l.collective_pct))
            .unwrap_or(0.4);
        let collective: Vec<ItemPlan> = self
            .asked(Role::Collective)
            .into_iter()
            .map(|(vi, v)| ItemPlan {
                var: vi,
                rate: p_col,
                deltas: arm_deltas(
                    codebook,
                    published,
                    self.area,
                    theme,
                    v.sub.as_deref(),
                    true,
                ),
                first_share: first_col,
            })
            .collect();
        let current = published.barnet_time.iter().find(|t| t.theme == theme);
        let mut time = Vec::new();
        for (role, rate) in [
            (Role::Time, level.and_then(|l| l.time_pct).unwrap_or(30.0)),
            (
                Role::TimeCurrent,
                current.map_or(20.0, |c| c.currently_few_hours_month_pct),
            ),
            (
                Role::TimeMore,
                current.map_or(20.0, |c| c.willing_more_few_hours_month_pct),
            ),
        ] {
            for (vi, _) in self.asked(role) {
                time.push(ItemPlan {
                    var: vi,
                    rate: rate / 100.0,
                    deltas: Vec::new(),
                    first_share: 0.7,
                });
            }
        }
        (individual, collective, time)
    }

    /// Attitudes and demographics with their correlations with the two
    /// latents, corrected for the attenuation of the measures.
    fn scored(
        &self,
        individual: &[ItemPlan],
        collective: &[ItemPlan],
        rng: &mut Rng,
    ) -> (Vec<ScoredPlan>, Vec<ScoredPlan>) {
        let (codebook, published, theme) = (self.codebook, self.published, self.theme);
        // attenuation of each measure relative to its latent
        let ind_rates: Vec<f64> = individual.iter().map(|i| i.rate).collect();
        let a_ind = if ind_rates.is_empty() {
            1.0
        } else {
            measure_attenuation(&ind_rates, ITEM_LOADING, rng)
        };
        let col_rates: Vec<f64> = collective.iter().map(|i| i.rate).collect();
        let a_col = if col_rates.is_empty() {
            1.0
        } else {
            measure_attenuation(&col_rates, COLLECTIVE_LOADING, rng)
        };
        let mut attitudes = Vec::new();
        for role in [
            Role::Conditions,
            Role::SatResponse,
            Role::SatInformation,
            Role::SatConsultation,
            Role::Efficacy,
        ] {
            for (vi, v) in self.asked(role) {
                let a_s = codebook.values_of(v).map_or(1.0, |set| {
                    let cats = categories(set);
                    let scores: Vec<f64> =
                        cats.iter().map(|c| set.score(*c).unwrap_or(0.0)).collect();
                    discretisation_r(&scores, &category_probs(cats.len()))
                });
                attitudes.push(ScoredPlan {
                    var: vi,
                    beta: target_r(published, 3, v, self.area, theme) / (a_s * a_ind),
                    gamma: target_r(published, 4, v, self.area, theme) / (a_s * a_col),
                });
            }
        }
        let mut demographics = Vec::new();
        for role in [Role::Age, Role::Gender, Role::Ethnicity] {
            if let Some((vi, v)) = codebook
                .variables
                .iter()
                .enumerate()
                .find(|(_, v)| v.role == role)
                && v.areas.iter().any(|a| a == self.area)
            {
                demographics.push(ScoredPlan {
                    var: vi,
                    beta: target_r(published, 3, v, self.area, theme) / a_ind,
                    gamma: target_r(published, 4, v, self.area, theme) / a_col,
                });
            }
        }
        // keep the explained variance of each latent below MAX_R2
        for pick in [0usize, 1] {
            let get = |p: &ScoredPlan| if pick == 0 { p.beta } else { p.gamma };
            let r2: f64 = attitudes
                .iter()
                .chain(&demographics)
                .map(|p| get(p).powi(2))
                .sum();
            if r2 > MAX_R2 {
                let f = (MAX_R2 / r2).sqrt();
                for p in attitudes.iter_mut().chain(demographics.iter_mut()) {
                    if pick == 0 { p.beta *= f } else { p.gamma *= f }
                }
            }
        }
        (attitudes, demographics)
    }
}

/// Writes the synthetic survey as CSV in the codebook's layout; returns the
/// number of respondents written.
pub fn simulate<W: Write>(
    codebook: &Codebook,
    published: &Published,
    options: &Options,
    out: W,
) -> io::Result<u64> {
    check(codebook).map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let mut out = io::BufWriter::with_capacity(1 << 20, out);
    let mut rng = Rng::new(options.seed);
    let plans = plan(codebook, published, &mut rng.fork(1));
    let names: Vec<&str> = codebook.variables.iter().map(|v| v.name.as_str()).collect();
    writeln!(out, "{}", names.join(","))?;
    let mut written = 0u64;
    let mut line = String::new();
    for replicate in 0..options.scale.max(1) {
        for area in &plans {
            let mut chunk_rng = Rng::new(
                options.seed ^ (u64::from(replicate) << 20) ^ ((area.index as u64 + 1) << 48),
            );
            let chunk = draw_area(codebook, area, replicate, &mut chunk_rng);
            for i in 0..area.respondents {
                line.clear();
                for (vi, var) in codebook.variables.iter().enumerate() {
                    if vi > 0 {
                        line.push(',');
                    }
                    match var.role {
                        Role::Id => line.push_str(&chunk.ids[i]),
                        Role::Weight => line.push_str(&format!("{:.4}", chunk.weight[i])),
                        _ => {
                            if let Some(c) = chunk.codes[vi][i] {
                                line.push_str(&c.to_string());
                            }
                        }
                    }
                }
                line.push('\n');
                out.write_all(line.as_bytes())?;
                written += 1;
            }
        }
    }
    out.flush()?;
    Ok(written)
}

/// What the simulator needs of a codebook beyond what the codebook check
/// asks: every drawn variable has scored codes to draw, and every yes/no
/// measure has both positive codes and codes that are not.
fn check(codebook: &Codebook) -> Result<(), String> {
    for var in &codebook.variables {
        let drawn = matches!(
            var.role,
            Role::Age
                | Role::Gender
                | Role::Ethnicity
                | Role::Conditions
                | Role::SatResponse
                | Role::SatInformation
                | Role::SatConsultation
                | Role::Efficacy
        ) || var.role.is_binary_measure();
        let Some(set) = codebook.values_of(var).filter(|_| drawn) else {
            continue;
        };
        let cats = categories(set);
        if cats.is_empty() {
            return Err(format!(
                "variable `{}`: value set `{}` has no scored codes to simulate answers from",
                var.name,
                var.values.as_deref().unwrap_or("")
            ));
        }
        if var.role.is_binary_measure() && cats.iter().all(|c| set.positive.contains(c)) {
            return Err(format!(
                "variable `{}`: every code of value set `{}` is positive; the simulator needs codes that are not (\"never\") too",
                var.name,
                var.values.as_deref().unwrap_or("")
            ));
        }
        if var.role.is_binary_measure() && set.positive.is_empty() {
            return Err(format!(
                "variable `{}`: value set `{}` has no positive codes",
                var.name,
                var.values.as_deref().unwrap_or("")
            ));
        }
    }
    Ok(())
}

struct Chunk {
    ids: Vec<String>,
    weight: Vec<f64>,
    codes: Vec<Vec<Option<i64>>>,
}

fn draw_categorical(rng: &mut Rng, cats: &[i64], probs: &[f64]) -> i64 {
    let u = rng.uniform();
    let mut cum = 0.0;
    for (c, p) in cats.iter().zip(probs) {
        cum += p;
        if u < cum {
            return *c;
        }
    }
    *cats.last().expect("categories are not empty")
}

fn draw_area(codebook: &Codebook, plan: &AreaPlan, replicate: u32, rng: &mut Rng) -> Chunk {
    let n = plan.respondents;
    let area = &codebook.areas[plan.index];
    let ids = (0..n)
        .map(|i| {
            (area.code as u64 * 1_000_000_000 + u64::from(replicate) * 10_000 + i as u64 + 1)
                .to_string()
        })
        .collect();
    let mut weight: Vec<f64> = (0..n).map(|_| (0.3 * rng.normal()).exp()).collect();
    let mean_w = weight.iter().sum::<f64>() / n as f64;
    weight.iter_mut().for_each(|w| *w /= mean_w);

    let mut codes: Vec<Vec<Option<i64>>> = vec![vec![None; n]; codebook.variables.len()];
    let arm = draw_respondent_variables(codebook, plan, &mut codes, rng);
    let arms = Arms::new(plan, &arm);
    for theme in &plan.themes {
        let (ind_latent, col_latent) = draw_latents(codebook, theme, &mut codes, n, rng);
        let groups = [
            (&theme.individual, &ind_latent, ITEM_LOADING, DK_ITEM),
            (
                &theme.collective,
                &col_latent,
                COLLECTIVE_LOADING,
                DK_COLLECTIVE,
            ),
            (&theme.time, &col_latent, TIME_LOADING, DK_TIME),
        ];
        for (items, latent, loading, dk_rate) in groups {
            let single = items.len() == 1 && loading == COLLECTIVE_LOADING;
            for item in items {
                let set = codebook
                    .values_of(&codebook.variables[item.var])
                    .expect("checked codebook");
                let score = item_scores(latent, loading, single, rng);
                draw_item(set, item, &score, dk_rate, &arms, &mut codes[item.var], rng);
            }
        }
    }
    Chunk { ids, weight, codes }
}

/// Area, trial arm (balanced, shuffled) and demographics; returns each
/// respondent's arm code (0 outside a trial).
fn draw_respondent_variables(
    codebook: &Codebook,
    plan: &AreaPlan,
    codes: &mut [Vec<Option<i64>>],
    rng: &mut Rng,
) -> Vec<i64> {
    let area = &codebook.areas[plan.index];
    let n = plan.respondents;
    let mut arm = vec![0i64; n];
    for (vi, var) in codebook.variables.iter().enumerate() {
        match var.role {
            Role::Area => codes[vi] = vec![Some(area.code); n],
            Role::Arm if !plan.arm_codes.is_empty() => {
                let k = plan.arm_codes.len();
                let mut slots: Vec<i64> = (0..n).map(|i| plan.arm_codes[i % k]).collect();
                rng.shuffle(&mut slots);
                arm.clone_from(&slots);
                codes[vi] = slots.into_iter().map(Some).collect();
            }
            Role::Age | Role::Gender | Role::Ethnicity if var.areas.contains(&area.name) => {
                let set = codebook.values_of(var).expect("checked codebook");
                let cats = categories(set);
                let probs = if var.role == Role::Ethnicity {
                    ethnic_group_probs(cats.len())
                } else {
                    category_probs(cats.len())
                };
                let missing = set.missing.iter().next().copied();
                for slot in codes[vi].iter_mut() {
                    *slot = match missing {
                        Some(m) if rng.uniform() < DEMO_MISSING => Some(m),
                        _ => Some(draw_categorical(rng, &cats, &probs)),
                    };
                }
            }
            _ => {}
        }
    }
    arm
}

/// The respondents of each trial arm (one group of everyone without a trial).
struct Arms {
    groups: Vec<Vec<usize>>,
    /// The arm code of each group.
    codes: Vec<Option<i64>>,
}

impl Arms {
    fn new(plan: &AreaPlan, arm: &[i64]) -> Self {
        if plan.arm_codes.is_empty() {
            return Arms {
                groups: vec![(0..arm.len()).collect()],
                codes: vec![None],
            };
        }
        Arms {
            groups: plan
                .arm_codes
                .iter()
                .map(|c| (0..arm.len()).filter(|i| arm[*i] == *c).collect())
                .collect(),
            codes: plan.arm_codes.iter().map(|c| Some(*c)).collect(),
        }
    }
}

/// A coded variable's scores standardised (missing → the mean).
fn standardise(codebook: &Codebook, vi: usize, codes: &[Vec<Option<i64>>]) -> Vec<f64> {
    let set = codebook
        .values_of(&codebook.variables[vi])
        .expect("checked codebook");
    let s: Vec<Option<f64>> = codes[vi]
        .iter()
        .map(|c| c.and_then(|c| set.score(c)))
        .collect();
    let vals: Vec<f64> = s.iter().flatten().copied().collect();
    let m = vals.iter().sum::<f64>() / vals.len().max(1) as f64;
    let sd = (vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / vals.len().max(1) as f64).sqrt();
    s.iter()
        .map(|v| v.map_or(0.0, |v| if sd > 0.0 { (v - m) / sd } else { 0.0 }))
        .collect()
}

/// A theme's two latents (individual and collective co-production), and its
/// attitude answers cut from the same draws.
///
/// Latent draws are made exactly orthogonal in the sample (Gram-Schmidt),
/// so the sample correlations of the latents with each attitude and
/// demographic are the planned coefficients, not the planned coefficients
/// plus sampling noise.
fn draw_latents(
    codebook: &Codebook,
    theme: &ThemePlan,
    codes: &mut [Vec<Option<i64>>],
    n: usize,
    rng: &mut Rng,
) -> (Vec<f64>, Vec<f64>) {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for d in &theme.demographics {
        let z = standardise(codebook, d.var, codes);
        basis.push(orthonormalise(z, &basis));
    }
    let demo_count = basis.len();
    for _ in 0..theme.attitudes.len() + 2 {
        let z: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        basis.push(orthonormalise(z, &basis));
    }
    let mut ind_latent = vec![0.0; n];
    let mut col_latent = vec![0.0; n];
    let (mut r2_ind, mut r2_col) = (0.0, 0.0);
    for (d, z) in theme.demographics.iter().zip(&basis) {
        for i in 0..n {
            ind_latent[i] += d.beta * z[i];
            col_latent[i] += d.gamma * z[i];
        }
        r2_ind += d.beta * d.beta;
        r2_col += d.gamma * d.gamma;
    }
    for (a, z) in theme.attitudes.iter().zip(&basis[demo_count..]) {
        let var = &codebook.variables[a.var];
        let set = codebook.values_of(var).expect("checked codebook");
        let cats = categories(set);
        let probs = category_probs(cats.len());
        let n01 = Normal::standard();
        let mut cuts = Vec::new();
        let mut cum = 0.0;
        for p in &probs[..probs.len() - 1] {
            cum += p;
            cuts.push(n01.inverse_cdf(cum));
        }
        let dk = set.dont_know.iter().next().copied();
        for i in 0..n {
            ind_latent[i] += a.beta * z[i];
            col_latent[i] += a.gamma * z[i];
            let u = rng.uniform();
            codes[a.var][i] = if u < BLANK {
                None
            } else if u < BLANK + DK_ATTITUDE && dk.is_some() {
                dk
            } else {
                Some(cats[cuts.iter().filter(|c| z[i] > **c).count()])
            };
        }
        r2_ind += a.beta * a.beta;
        r2_col += a.gamma * a.gamma;
    }
    let (e_ind, e_col) = (
        (1.0 - r2_ind).max(0.0).sqrt(),
        (1.0 - r2_col).max(0.0).sqrt(),
    );
    let (noise_ind, noise_col) = (&basis[basis.len() - 2], &basis[basis.len() - 1]);
    for i in 0..n {
        ind_latent[i] += e_ind * noise_ind[i];
        col_latent[i] += e_col * noise_col[i];
    }
    (ind_latent, col_latent)
}

/// One co-production item: blanks and don't knows first, then in each arm
/// the planned share of those who answered, highest scores first, say yes.
fn draw_item(
    set: &ValueSet,
    item: &ItemPlan,
    score: &[f64],
    dk_rate: f64,
    arms: &Arms,
    codes: &mut [Option<i64>],
    rng: &mut Rng,
) {
    let n = codes.len();
    let dk = set.dont_know.iter().next().copied();
    let mut answered = vec![false; n];
    for (i, slot) in answered.iter_mut().enumerate() {
        let u = rng.uniform();
        if u < BLANK {
            codes[i] = None;
        } else if u < BLANK + dk_rate && dk.is_some() {
            codes[i] = dk;
        } else {
            *slot = true;
        }
    }
    let mean_delta = if item.deltas.is_empty() {
        0.0
    } else {
        arms.codes
            .iter()
            .map(|c| c.map_or(0.0, |c| delta_of(&item.deltas, c)))
            .sum::<f64>()
            / arms.codes.len() as f64
    };
    let positives: Vec<i64> = set.positive.iter().copied().collect();
    let negatives: Vec<i64> = categories(set)
        .into_iter()
        .filter(|c| !set.positive.contains(c))
        .collect();
    let mut positive = vec![false; n];
    for (g, members) in arms.groups.iter().enumerate() {
        let eligible: Vec<usize> = members.iter().copied().filter(|i| answered[*i]).collect();
        let delta = arms.codes[g].map_or(0.0, |c| delta_of(&item.deltas, c));
        let rate = (item.rate + delta - mean_delta).clamp(0.005, 0.995);
        assign_quota(score, &eligible, rate, &mut positive);
    }
    for i in 0..n {
        if !answered[i] {
            continue;
        }
        codes[i] = Some(if positive[i] {
            if positives.len() == 1 || rng.uniform() < item.first_share {
                positives[0]
            } else {
                positives[1 + rng.below(positives.len() - 1)]
            }
        } else {
            negatives[rng.below(negatives.len())]
        });
    }
}

/// `v` centred, made orthogonal to every vector of `basis` (each centred
/// with unit variance), and scaled to unit variance.
fn orthonormalise(mut v: Vec<f64>, basis: &[Vec<f64>]) -> Vec<f64> {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    v.iter_mut().for_each(|x| *x -= m);
    for b in basis {
        let proj = v.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / n;
        v.iter_mut().zip(b).for_each(|(x, y)| *x -= proj * y);
    }
    let sd = (v.iter().map(|x| x * x).sum::<f64>() / n).sqrt();
    if sd > 0.0 {
        v.iter_mut().for_each(|x| *x /= sd);
    }
    v
}

fn delta_of(deltas: &ArmDeltas, code: i64) -> f64 {
    deltas
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(0.0, |(_, d)| *d)
}
