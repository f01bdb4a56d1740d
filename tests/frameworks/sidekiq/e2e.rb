# Sidekiq workers of the end-to-end test (tests/frameworks_test.go); Redis
# is schemaproxy's database 1, at the URL in REDIS_URL. Each job records
# what it did in Redis, where sidekiq_e2e.rb checks it.
require "sidekiq"
require "sidekiq/api"

# redis-rb 4.8 warns about calls Sidekiq 6.4 makes, at every job.
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
Redis.sadd_returns_boolean = false if Redis.respond_to?(:sadd_returns_boolean=)

# Scheduled jobs and retries are looked at every second, from the start
# (an explicit poll_interval_average skips Sidekiq's initial 10 s wait).
Sidekiq.configure_server do |config|
  config.average_scheduled_poll_interval = 1
  config.options[:poll_interval_average] = 1
end

class AddJob
  include Sidekiq::Worker

  def perform(a, b)
    Sidekiq.redis { |r| r.hset("e2e:sums", "#{a}+#{b}", a + b) }
  end
end

# Fails until it has run three times, counting runs in e2e:flaky.
class FlakyJob
  include Sidekiq::Worker
  sidekiq_options retry: 5
  sidekiq_retry_in { 1 }

  def perform
    n = Sidekiq.redis { |r| r.incr("e2e:flaky") }
    raise "flaky run #{n}" if n < 3
    Sidekiq.redis { |r| r.set("e2e:flaky:done", n) }
  end
end

# Fails for good: with no retries left it goes to the dead set.
class FailJob
  include Sidekiq::Worker
  sidekiq_options retry: 0

  def perform
    raise ArgumentError, "boom"
  end
end
